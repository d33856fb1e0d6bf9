package org.diffxai.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.StandardOpenOption;

/**
 * A file channel on a disk that holds at most {@code limit} bytes of this file: a write that would end beyond it fails
 * with the IOException a full disk gives ("No space left on device").
 */
final class LimitedChannel extends FileChannel {
  private final FileChannel ch;
  private final long limit;

  private LimitedChannel(FileChannel ch, long limit) {
    this.ch = ch;
    this.limit = limit;
  }

  /** An opener for {@link StreamingTiffWriter} whose files fill up after {@code limit} bytes. */
  static StreamingTiffWriter.ChannelOpener opener(long limit) {
    return p -> new LimitedChannel(FileChannel.open(p, StandardOpenOption.WRITE), limit);
  }

  private void check(long end) throws IOException {
    if (end > limit) throw new IOException("No space left on device");
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    check(ch.position() + src.remaining());
    return ch.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long n = 0;
    for (int i = offset; i < offset + length; i++) n += srcs[i].remaining();
    check(ch.position() + n);
    return ch.write(srcs, offset, length);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    check(position + src.remaining());
    return ch.write(src, position);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return ch.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return ch.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return ch.read(dst, position);
  }

  @Override
  public long position() throws IOException {
    return ch.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    ch.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return ch.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    ch.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    ch.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return ch.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return ch.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return ch.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    ch.close();
  }
}
