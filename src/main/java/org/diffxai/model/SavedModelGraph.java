package org.diffxai.model;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.diffxai.core.UserException;
import org.diffxai.model.AllowedOps.Context;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A bundle's {@code saved_model.pb}, parsed in Java before TensorFlow sees it: the MetaGraph tagged {@code serve} (the
 * one TensorFlow's loader runs), checked against {@link AllowedOps}, and read for facts the signature does not tell
 * (the variables the graph needs, the size of a label embedding).
 *
 * <p>Which list applies to a node (docs/security.md): TensorFlow's loader runs the saver's restore op (feeding the
 * variables path) and the init op; a caller then runs signatures. A node is checked against the pure-compute list when
 * it is reachable (through data or control inputs) from any signature tensor, any collection's nodes, or from nothing
 * at all; against compute + restore ops when only the restore op reaches it; against compute + restore + save ops when
 * only the save tensor reaches it. So a SaveV2 hidden as a control dependency of a serving output is refused, while
 * the saver's own SaveV2 is not. Functions of the library get the strictest context of every node that calls them: a
 * call is an op named like the function, or any {@code func} attribute (PartitionedCall and StatefulPartitionedCall
 * {@code f}, If/While/Case branches, nested attributes), followed transitively through function bodies; a function
 * nobody calls is checked as pure compute. A {@code func} attribute naming no library function would make TensorFlow
 * run the primitive op of that name, so that name is checked as an op type.
 */
final class SavedModelGraph {
  static final String SERVE = "serve";

  final MetaGraphDef meta;

  SavedModelGraph(MetaGraphDef meta) {
    this.meta = meta;
  }

  /**
   * Parses {@code dir/saved_model.pb} and picks the MetaGraph whose tags are exactly {@code serve}.
   *
   * @throws UserException naming the bundle when the file is not a SavedModel protobuf or has no such MetaGraph
   */
  static SavedModelGraph read(Path dir, String modelName, String doc) {
    Path pb = dir.resolve(DenoiserBundle.SAVED_MODEL);
    SavedModel sm;
    try {
      sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    } catch (InvalidProtocolBufferException e) {
      throw new UserException("Model " + modelName + ": " + pb + " is not a TensorFlow SavedModel (it cannot be "
          + "parsed as one: " + e.getMessage() + "). The file is damaged or is something else; restore the original "
          + "bundle or re-export the model; see " + doc + ".", e);
    } catch (IOException e) {
      throw new UserException("Cannot read " + pb + ": " + e + ". Check the permissions.", e);
    }
    List<String> tagSets = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      List<String> tags = mg.getMetaInfoDef().getTagsList();
      if (tags.size() == 1 && tags.get(0).equals(SERVE)) return new SavedModelGraph(mg);
      tagSets.add(tags.toString());
    }
    throw new UserException("Model " + modelName + ": " + pb + " holds no MetaGraph tagged '" + SERVE + "' ("
        + (tagSets.isEmpty() ? "it holds no MetaGraph at all, so it is damaged or not a SavedModel"
            : "its tag sets: " + String.join(", ", tagSets)) + "). Export the model with the tag 'serve'; see " + doc
        + ".");
  }

  // ---------------------------------------------------------------------------------------------- op check

  /** One op type outside the allow-list and where it was first seen. */
  static final class Finding {
    final String op;
    final String where;

    Finding(String op, String where) {
      this.op = op;
      this.where = where;
    }

    @Override
    public String toString() {
      return op + " (" + where + ")";
    }
  }

  /** Node and function counts of the last check, for provenance. */
  int nodesChecked;
  int functionsChecked;

  /** The op types outside the allow-list, sorted by op type (empty when the graph passes). */
  List<Finding> disallowedOps() {
    List<NodeDef> nodes = meta.getGraphDef().getNodeList();
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : nodes) byName.put(n.getName(), n);
    Map<String, FunctionDef> functions = new HashMap<>();
    for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) {
      functions.put(f.getSignature().getName(), f);
    }

    Map<String, Context> nodeContext = new HashMap<>();
    List<String> serving = new ArrayList<>();
    for (SignatureDef sig : meta.getSignatureDefMap().values()) {
      for (TensorInfo ti : sig.getInputsMap().values()) tensorNames(ti, serving);
      for (TensorInfo ti : sig.getOutputsMap().values()) tensorNames(ti, serving);
    }
    for (CollectionDef c : meta.getCollectionDefMap().values()) {
      if (c.hasNodeList()) serving.addAll(c.getNodeList().getValueList());
    }
    reach(serving, Context.SERVING, byName, nodeContext);
    reach(Collections.singletonList(meta.getSaverDef().getRestoreOpName()), Context.RESTORE, byName, nodeContext);
    reach(Collections.singletonList(meta.getSaverDef().getSaveTensorName()), Context.SAVE, byName, nodeContext);

    Map<String, Finding> found = new TreeMap<>();
    Map<String, Context> fnContext = new HashMap<>();
    Deque<String> todo = new ArrayDeque<>();
    for (NodeDef n : nodes) {
      Context c = nodeContext.getOrDefault(n.getName(), Context.SERVING);
      visit(n, c, "node '" + n.getName() + "' in the graph", functions, fnContext, todo, found);
    }
    drain(todo, functions, fnContext, found);
    for (String fn : functions.keySet()) {
      if (!fnContext.containsKey(fn)) call(fn, Context.SERVING, fnContext, todo); // nobody calls it: pure compute
    }
    drain(todo, functions, fnContext, found);
    nodesChecked = nodes.size();
    functionsChecked = functions.size();
    return new ArrayList<>(found.values());
  }

  /** Checks the bodies of queued functions in their contexts; contexts only get stricter, so this ends. */
  private static void drain(Deque<String> todo, Map<String, FunctionDef> functions, Map<String, Context> fnContext,
      Map<String, Finding> found) {
    while (!todo.isEmpty()) {
      String fn = todo.poll();
      Context c = fnContext.get(fn);
      for (NodeDef n : functions.get(fn).getNodeDefList()) {
        visit(n, c, "node '" + n.getName() + "' in function '" + fn + "'", functions, fnContext, todo, found);
      }
    }
  }

  /** Checks one node and queues the functions it calls. */
  private static void visit(NodeDef n, Context c, String where, Map<String, FunctionDef> functions,
      Map<String, Context> fnContext, Deque<String> todo, Map<String, Finding> found) {
    if (functions.containsKey(n.getOp())) {
      call(n.getOp(), c, fnContext, todo);
    } else if (!AllowedOps.allowed(n.getOp(), c)) {
      found.putIfAbsent(n.getOp(), new Finding(n.getOp(), where));
    }
    for (AttrValue v : n.getAttrMap().values()) {
      for (String f : funcNames(v, new ArrayList<>())) {
        if (functions.containsKey(f)) {
          call(f, c, fnContext, todo);
        } else if (!AllowedOps.allowed(f, c)) { // TensorFlow runs a primitive op of that name
          found.putIfAbsent(f, new Finding(f, "called through an attribute of " + where));
        }
      }
    }
  }

  private static void call(String fn, Context c, Map<String, Context> fnContext, Deque<String> todo) {
    Context before = fnContext.get(fn);
    Context after = c.strictest(before);
    if (after != before) {
      fnContext.put(fn, after);
      todo.add(fn);
    }
  }

  private static List<String> funcNames(AttrValue v, List<String> out) {
    if (v.hasFunc()) funcNames(v.getFunc(), out);
    if (v.hasList()) {
      for (NameAttrList f : v.getList().getFuncList()) funcNames(f, out);
    }
    return out;
  }

  private static void funcNames(NameAttrList f, List<String> out) {
    if (!f.getName().isEmpty()) out.add(f.getName());
    for (AttrValue v : f.getAttrMap().values()) funcNames(v, out);
  }

  /** Marks every node reachable from {@code roots} with context {@code c} (keeping a stricter mark). */
  private static void reach(List<String> roots, Context c, Map<String, NodeDef> byName, Map<String, Context> marks) {
    Deque<String> todo = new ArrayDeque<>();
    for (String r : roots) todo.add(nodeName(r));
    while (!todo.isEmpty()) {
      String name = todo.poll();
      NodeDef n = byName.get(name);
      if (n == null) continue;
      Context before = marks.get(name);
      Context after = c.strictest(before);
      if (after == before) continue;
      marks.put(name, after);
      for (String in : n.getInputList()) todo.add(nodeName(in));
    }
  }

  private static void tensorNames(TensorInfo ti, List<String> out) {
    if (ti.hasName()) out.add(ti.getName());
    if (ti.hasCooSparse()) {
      out.add(ti.getCooSparse().getValuesTensorName());
      out.add(ti.getCooSparse().getIndicesTensorName());
      out.add(ti.getCooSparse().getDenseShapeTensorName());
    }
    if (ti.hasCompositeTensor()) {
      for (TensorInfo c : ti.getCompositeTensor().getComponentsList()) tensorNames(c, out);
    }
  }

  /** {@code ^name}, {@code name:1} → {@code name}. */
  static String nodeName(String input) {
    String s = input.startsWith("^") ? input.substring(1) : input;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  // ---------------------------------------------------------------------------------------------- facts

  /**
   * Names of the variables the graph declares (VariableV2 nodes; VarHandleOp's shared name), in the graph and its
   * functions, sorted.
   */
  List<String> variables() {
    TreeSet<String> out = new TreeSet<>();
    List<NodeDef> all = new ArrayList<>(meta.getGraphDef().getNodeList());
    for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) all.addAll(f.getNodeDefList());
    for (NodeDef n : all) {
      if (n.getOp().equals("VariableV2") || n.getOp().equals("Variable")) {
        out.add(n.getName());
      } else if (n.getOp().equals("VarHandleOp")) {
        AttrValue sn = n.getAttrMap().get("shared_name");
        out.add(sn != null && !sn.getS().isEmpty() ? sn.getS().toStringUtf8() : n.getName());
      }
    }
    return new ArrayList<>(out);
  }

  /** Whether the MetaGraph has a saver whose restore op TensorFlow's loader runs. */
  boolean restoresVariables() {
    return meta.hasSaverDef() && !meta.getSaverDef().getRestoreOpName().isEmpty();
  }

  /**
   * The number of rows of the embedding table that the {@code serving_default} input {@code input} indexes (a
   * Gather, GatherV2 or ResourceGather whose indices come from the input through shape-only ops, with a variable or
   * constant table of known first dimension), or of the OneHot depth it feeds; -1 when the main graph does not show it
   * (e.g. the input flows into a function).
   */
  long embeddingRows(String input) {
    SignatureDef sig = meta.getSignatureDefMap().get("serving_default");
    if (sig == null || !sig.getInputsMap().containsKey(input)) return -1;
    String start = nodeName(sig.getInputsMap().get(input).getName());
    List<NodeDef> nodes = meta.getGraphDef().getNodeList();
    Map<String, NodeDef> byName = new LinkedHashMap<>();
    for (NodeDef n : nodes) byName.put(n.getName(), n);
    Deque<String> todo = new ArrayDeque<>(Collections.singletonList(start));
    java.util.Set<String> seen = new java.util.HashSet<>(todo);
    while (!todo.isEmpty()) {
      String cur = todo.poll();
      for (NodeDef n : nodes) {
        if (n.getInputCount() == 0) continue;
        List<String> ins = n.getInputList();
        int at = -1;
        for (int i = 0; i < ins.size(); i++) {
          if (!ins.get(i).startsWith("^") && nodeName(ins.get(i)).equals(cur)) at = i;
        }
        if (at < 0) continue;
        switch (n.getOp()) {
          case "Gather":
          case "GatherV2":
          case "ResourceGather":
            if (at == 1) return firstDim(nodeName(ins.get(0)), byName);
            break;
          case "OneHot":
            if (at == 0 && ins.size() > 1) return scalarInt(byName.get(nodeName(ins.get(1))));
            break;
          case "Cast":
          case "Identity":
          case "Reshape":
          case "ExpandDims":
          case "Squeeze":
          case "StopGradient":
            if (at == 0 && seen.add(n.getName())) todo.add(n.getName());
            break;
          default:
            break;
        }
      }
    }
    return -1;
  }

  private static long firstDim(String table, Map<String, NodeDef> byName) {
    for (int hops = 0; hops < 8; hops++) {
      NodeDef n = byName.get(table);
      if (n == null) return -1;
      switch (n.getOp()) {
        case "VariableV2":
        case "Variable":
        case "VarHandleOp": {
          AttrValue s = n.getAttrMap().get("shape");
          return s == null ? -1 : dim0(s.getShape());
        }
        case "Const": {
          AttrValue v = n.getAttrMap().get("value");
          return v == null ? -1 : dim0(v.getTensor().getTensorShape());
        }
        case "Identity":
        case "ReadVariableOp":
          table = nodeName(n.getInput(0));
          break;
        default:
          return -1;
      }
    }
    return -1;
  }

  private static long dim0(TensorShapeProto s) {
    return s.getUnknownRank() || s.getDimCount() == 0 ? -1 : s.getDim(0).getSize();
  }

  private static long scalarInt(NodeDef n) {
    if (n == null || !n.getOp().equals("Const")) return -1;
    AttrValue v = n.getAttrMap().get("value");
    if (v == null) return -1;
    if (v.getTensor().getIntValCount() == 1) return v.getTensor().getIntVal(0);
    if (v.getTensor().getTensorContent().size() == 4) {
      return java.nio.ByteBuffer.wrap(v.getTensor().getTensorContent().toByteArray())
          .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
    }
    return -1;
  }
}
