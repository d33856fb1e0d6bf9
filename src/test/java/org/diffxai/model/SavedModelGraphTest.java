package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * How the op check follows TF2-style SavedModels (as tf.saved_model.save writes them, which this machine cannot run):
 * the serving signature, the saver's save and restore ops all call library functions through StatefulPartitionedCall,
 * and each function is checked in the context of whoever calls it. The MetaGraphs are built with the protobuf classes,
 * laid out like TensorFlow 2.16's exports (function names and op types as TensorFlow writes them).
 */
class SavedModelGraphTest {
  private static final String SERVE = "__inference_serve_10";
  private static final String SAVE = "__inference__traced_save_20";
  private static final String RESTORE = "__inference__traced_restore_30";

  private static NodeDef.Builder node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(Arrays.asList(inputs));
  }

  private static NodeDef.Builder call(String name, String op, String fn, String... inputs) {
    return node(name, op, inputs).putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(fn))
        .build());
  }

  private static FunctionDef.Builder function(String name, NodeDef.Builder... nodes) {
    FunctionDef.Builder f = FunctionDef.newBuilder().setSignature(OpDef.newBuilder().setName(name));
    for (NodeDef.Builder n : nodes) f.addNodeDef(n);
    return f;
  }

  /** A clean TF2-style MetaGraph: serving, save and restore through functions. */
  private static MetaGraphDef.Builder tf2() {
    MetaGraphDef.Builder m = MetaGraphDef.newBuilder();
    m.getGraphDefBuilder()
        .addNode(node("serving_default_x", "Placeholder"))
        .addNode(node("dense/kernel", "VarHandleOp").putAttr("shared_name",
            AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("dense/kernel")).build()))
        .addNode(call("StatefulPartitionedCall", "StatefulPartitionedCall", SERVE, "serving_default_x",
            "dense/kernel"))
        .addNode(node("saver_filename", "Placeholder"))
        .addNode(call("StatefulPartitionedCall_1", "StatefulPartitionedCall", SAVE, "saver_filename", "dense/kernel"))
        .addNode(call("StatefulPartitionedCall_2", "StatefulPartitionedCall", RESTORE, "saver_filename",
            "dense/kernel"));
    m.getGraphDefBuilder().getLibraryBuilder()
        .addFunction(function(SERVE, node("ReadVariableOp", "ReadVariableOp"), node("MatMul", "MatMul"),
            node("Identity", "Identity")))
        .addFunction(function(SAVE, node("StaticRegexFullMatch", "StaticRegexFullMatch"), node("Const", "Const"),
            node("Select", "Select"), node("StringJoin", "StringJoin"), node("num_shards", "Const"),
            node("ShardedFilename", "ShardedFilename"), node("DisableCopyOnRead", "DisableCopyOnRead"),
            node("SaveV2", "SaveV2"), node("MergeV2Checkpoints", "MergeV2Checkpoints"), node("Identity", "Identity"),
            node("NoOp", "NoOp")))
        .addFunction(function(RESTORE, node("RestoreV2", "RestoreV2"), node("Identity", "Identity"),
            node("AssignVariableOp", "AssignVariableOp"), node("NoOp", "NoOp")))
        .addFunction(function("__inference_call_40", node("MatMul", "MatMul")));
    m.setSaverDef(SaverDef.newBuilder().setFilenameTensorName("saver_filename:0")
        .setSaveTensorName("StatefulPartitionedCall_1:0").setRestoreOpName("StatefulPartitionedCall_2"));
    m.putSignatureDef("serving_default", SignatureDef.newBuilder()
        .putInputs("x", TensorInfo.newBuilder().setName("serving_default_x:0").build())
        .putOutputs("y", TensorInfo.newBuilder().setName("StatefulPartitionedCall:0").build()).build());
    m.getMetaInfoDefBuilder().addTags("serve");
    return m;
  }

  private static List<String> found(MetaGraphDef.Builder m) {
    return new SavedModelGraph(m.build()).disallowedOps().stream().map(Object::toString).collect(Collectors.toList());
  }

  private static FunctionDef.Builder fn(MetaGraphDef.Builder m, String name) {
    for (FunctionDef.Builder f : m.getGraphDefBuilder().getLibraryBuilder().getFunctionBuilderList()) {
      if (f.getSignature().getName().equals(name)) return f;
    }
    throw new IllegalArgumentException(name);
  }

  @Test
  void aCleanTf2ModelPassesWithItsSaverFunctions() {
    assertEquals(Collections.emptyList(), found(tf2()));
    assertEquals(Collections.singletonList("dense/kernel"), new SavedModelGraph(tf2().build()).variables());
  }

  @Test
  void aFileOpInTheServingFunctionIsFound() {
    MetaGraphDef.Builder m = tf2();
    fn(m, SERVE).addNodeDef(node("w", "WriteFile"));
    assertEquals(Collections.singletonList("WriteFile (node 'w' in function '" + SERVE + "')"), found(m));
  }

  @Test
  void theSaveFunctionCalledFromServingIsNotTheSavers() {
    MetaGraphDef.Builder m = tf2();
    fn(m, SERVE).addNodeDef(call("again", "PartitionedCall", SAVE));
    assertEquals(Arrays.asList("DisableCopyOnRead", "MergeV2Checkpoints", "SaveV2", "ShardedFilename",
        "StaticRegexFullMatch", "StringJoin"), found(m).stream().map(s -> s.substring(0, s.indexOf(' ')))
            .collect(Collectors.toList()));
  }

  @Test
  void theRestoreOpMayNotWrite() {
    MetaGraphDef.Builder m = tf2();
    fn(m, RESTORE).addNodeDef(node("sneaky", "SaveV2"));
    assertEquals(Collections.singletonList("SaveV2 (node 'sneaky' in function '" + RESTORE + "')"), found(m));
  }

  @Test
  void uncalledFunctionsNestedBranchesAndPrimitiveCallsAreChecked() {
    MetaGraphDef.Builder m = tf2();
    fn(m, "__inference_call_40").addNodeDef(node("r", "ReadFile"));
    m.getGraphDefBuilder().getLibraryBuilder().addFunction(function("then_fn", node("p", "PrintV2")));
    fn(m, SERVE).addNodeDef(node("cond", "StatelessIf").putAttr("then_branch",
        AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName("then_fn")).build()));
    // a func attribute naming no library function makes TensorFlow run the primitive op of that name
    fn(m, SERVE).addNodeDef(call("prim", "PartitionedCall", "WriteFile"));
    assertEquals(Arrays.asList("PrintV2 (node 'p' in function 'then_fn')",
        "ReadFile (node 'r' in function '__inference_call_40')",
        "WriteFile (called through an attribute of node 'prim' in function '" + SERVE + "')"), found(m));
  }

  @Test
  void tf1SaverNodesAreAllowedOnlyOffTheServingPath() {
    MetaGraphDef.Builder m = MetaGraphDef.newBuilder();
    m.getGraphDefBuilder().addNode(node("x", "Placeholder")).addNode(node("y", "Identity", "x"))
        .addNode(node("save/filename", "Placeholder")).addNode(node("save/Const", "Const"))
        .addNode(node("save/SaveV2", "SaveV2", "save/filename", "save/Const"))
        .addNode(node("save/control_dependency", "Identity", "save/filename", "^save/SaveV2"))
        .addNode(node("save/RestoreV2", "RestoreV2", "save/filename", "save/Const"))
        .addNode(node("save/restore_all", "NoOp", "^save/RestoreV2"));
    m.setSaverDef(SaverDef.newBuilder().setFilenameTensorName("save/filename:0")
        .setSaveTensorName("save/control_dependency:0").setRestoreOpName("save/restore_all"));
    m.putSignatureDef("serving_default", SignatureDef.newBuilder()
        .putInputs("x", TensorInfo.newBuilder().setName("x:0").build())
        .putOutputs("y", TensorInfo.newBuilder().setName("y:0").build()).build());
    assertEquals(Collections.emptyList(), found(m));
    // the restore op may not reach the SaveV2, nor may a dead node be a file op
    m.getGraphDefBuilder().getNodeBuilder(7).addInput("^save/SaveV2");
    m.getGraphDefBuilder().addNode(node("dead", "MatchingFiles"));
    assertEquals(Arrays.asList("MatchingFiles (node 'dead' in the graph)", "SaveV2 (node 'save/SaveV2' in the graph)"),
        found(m));
  }
}
