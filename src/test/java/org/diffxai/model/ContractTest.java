package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Contract checks on hand-made signatures, for violations the exported fixtures cannot easily produce (TensorFlow is
 * not run here; the bundles are only used for their model.json).
 */
class ContractTest {

  private static TensorInfo info(DataType type, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    if (dims == null) s.setUnknownRank(true);
    else for (long d : dims) s.addDimBuilder().setSize(d);
    return TensorInfo.newBuilder().setName("op:0").setDtype(type).setTensorShape(s).build();
  }

  /** A valid unconditional 8x8x1 signature. */
  private static SignatureDef.Builder valid() {
    return SignatureDef.newBuilder().putInputs("x", info(DataType.DT_FLOAT, -1, 8, 8, 1))
        .putInputs("t", info(DataType.DT_FLOAT, -1)).putOutputs("out", info(DataType.DT_FLOAT, -1, 8, 8, 1));
  }

  private static String error(SignatureDef.Builder sig, DenoiserBundle b) {
    return assertThrows(UserException.class, () -> DjlDenoiser.Contract.check(b, sig.build(), null, -1)).getMessage();
  }

  @Test
  void validSignaturePasses() {
    DjlDenoiser.Contract c = DjlDenoiser.Contract.check(DenoiserBundle.open(Fixtures.plain()), valid().build(), null,
        -1);
    assertEquals(8, c.height);
    assertEquals(1, c.channels);
    // unknown rank everywhere is allowed when model.json gives the size
    c = DjlDenoiser.Contract.check(DenoiserBundle.open(Fixtures.plain()), SignatureDef.newBuilder()
        .putInputs("x", info(DataType.DT_FLOAT, (long[]) null)).putInputs("t", info(DataType.DT_FLOAT, (long[]) null))
        .putOutputs("y", info(DataType.DT_FLOAT, (long[]) null)).build(), null, -1);
    assertEquals(8, c.width);
  }

  @Test
  void violations() {
    DenoiserBundle plain = DenoiserBundle.open(Fixtures.plain());
    assertEquals("Model plain has an input 'noise_level' that is not part of the bundle contract (x, t, optional "
        + "label, optional condition). Re-export the model with only these inputs; see docs/bundles.md.",
        error(valid().putInputs("noise_level", info(DataType.DT_FLOAT, -1)), plain));
    assertEquals("Model plain has no input 'x' (float32 [N,H,W,C] noisy samples); its inputs are [t]. The bundle "
        + "contract needs inputs x and t; see docs/bundles.md.", error(valid().removeInputs("x"), plain));
    assertTrue(error(valid().removeInputs("t"), plain).startsWith("Model plain has no input 't'"));
    assertEquals("Model plain: input t has type double but the bundle contract needs float32. Re-export the model; "
        + "see docs/bundles.md.", error(valid().putInputs("t", info(DataType.DT_DOUBLE, -1)), plain));
    assertEquals("Model plain: input x has shape [?,8,8] but the bundle contract needs [N,H,W,C]. Re-export the "
        + "model; see docs/bundles.md.", error(valid().putInputs("x", info(DataType.DT_FLOAT, -1, 8, 8)), plain));
    assertTrue(error(valid().putOutputs("extra", info(DataType.DT_FLOAT, -1, 8, 8, 1)), plain)
        .startsWith("Model plain has 2 outputs (extra, out); the bundle contract needs exactly one"));
    assertTrue(error(valid().putOutputs("out", info(DataType.DT_FLOAT, -1, 8, 8, 3)), plain)
        .startsWith("Model output 'out' has shape [?,8,8,3] but the samples are [N,8,8,1]"));
    assertTrue(error(valid().putOutputs("out", info(DataType.DT_HALF, -1, 8, 8, 1)), plain)
        .startsWith("Model plain: output 'out' has type half"));

    DenoiserBundle conditional = DenoiserBundle.open(Fixtures.conditional());
    SignatureDef.Builder c = valid().putInputs("label", info(DataType.DT_INT64, -1))
        .putInputs("condition", info(DataType.DT_FLOAT, -1, 8, 8, 2));
    assertTrue(error(c, conditional).startsWith("Model conditional: input label has type int64 but the bundle "
        + "contract needs int32."));
    c.putInputs("label", info(DataType.DT_INT32, -1)).putInputs("condition", info(DataType.DT_FLOAT, -1, 4, 8, 2));
    assertTrue(error(c, conditional).startsWith("Model input 'condition' expects height 4 but the samples are 8x8"));

    DenoiserBundle noJson = DenoiserBundle.open(Fixtures.dynamic());
    assertTrue(error(valid().putInputs("condition", info(DataType.DT_FLOAT, -1, 8, 8, -1)), noJson)
        .startsWith("Model input 'condition' of dynamic has no fixed channel count"));
  }
}
