package org.diffxai.model;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * The TensorFlow op types a SavedModel may contain without {@code trust} (docs/security.md explains each group). Every
 * op outside these lists is refused: anything that reads or writes files (ReadFile, WriteFile, MatchingFiles,
 * ImmutableConst, readers, datasets, summaries, table initialisers from files), reaches the network or other processes,
 * runs Python (PyFunc, EagerPyFunc), prints or asserts (Print, PrintV2, Assert), decodes or parses strings, or loads
 * custom kernels; and ops this list has simply never met, which a user can still run deliberately with {@code trust}.
 *
 * <p>The groups were derived from the project's own bundles (the UNet denoiser and the three prototype networks in
 * sample-data/models, and every op type the trainers in org.diffxai.tf emit) plus the common pure math, array and
 * neural-network ops of TensorFlow's op registry that Keras and tf.Module exports produce.
 */
final class AllowedOps {
  private AllowedOps() {}

  /** Where a node runs, from the strictest to the most permissive list. */
  enum Context {
    /** Reachable from a signature, an init op, a collection, or from nothing at all: pure compute only. */
    SERVING,
    /** Reachable only from the saver's restore op (run once at load with the variables path fed in). */
    RESTORE,
    /** Reachable only from the saver's save tensor (never run by this plugin). */
    SAVE;

    /** The stricter of two contexts. */
    Context strictest(Context other) {
      return other == null || ordinal() <= other.ordinal() ? this : other;
    }
  }

  private static Set<String> set(String... ops) {
    return Collections.unmodifiableSet(new HashSet<>(Arrays.asList(ops)));
  }

  /** Pure compute: a function of the inputs, the model's own variables and constants. */
  static final Set<String> COMPUTE = union(
      // graph plumbing: constants, inputs, identities, control-flow joins
      set("Const", "Placeholder", "PlaceholderWithDefault", "Identity", "IdentityN", "NoOp", "StopGradient",
          "PreventGradient", "Snapshot", "EnsureShape"),
      // the model's own variables (in memory; reading and assigning them touches no file)
      set("VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp",
          "AssignSubVariableOp", "Assign", "AssignAdd", "AssignSub", "VarIsInitializedOp", "IsVariableInitialized",
          "VariableShape", "ResourceGather"),
      // function calls and functional control flow: the functions they call are checked in the same context
      set("PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While", "StatelessWhile", "Case",
          "StatelessCase"),
      // graph-mode (TF1) control flow
      set("Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "ControlTrigger"),
      // shapes and layout
      set("Shape", "ShapeN", "Size", "Rank", "Reshape", "ExpandDims", "Squeeze", "Transpose", "ConjugateTranspose",
          "Concat", "ConcatV2", "Pack", "Unpack", "Split", "SplitV", "Slice", "StridedSlice", "Tile", "Pad", "PadV2",
          "MirrorPad", "Fill", "ZerosLike", "OnesLike", "Range", "LinSpace", "Gather", "GatherV2", "GatherNd",
          "ScatterNd", "TensorScatterUpdate", "TensorScatterAdd", "Reverse", "ReverseV2", "OneHot", "Where", "Select",
          "SelectV2", "BroadcastTo", "BroadcastArgs", "BroadcastGradientArgs", "Cast", "Cumsum", "Cumprod", "TopKV2",
          "ArgMax", "ArgMin", "DepthToSpace", "SpaceToDepth", "SpaceToBatchND", "BatchToSpaceND", "MatrixBandPart",
          "MatrixDiag", "MatrixDiagV3", "MatrixDiagPart", "MatrixDiagPartV3", "MatrixSetDiag", "MatrixSetDiagV3",
          "ExtractImagePatches", "InvertPermutation", "UnsortedSegmentSum", "DynamicStitch", "Einsum"),
      // element-wise and reduction math
      set("Add", "AddV2", "AddN", "Sub", "Mul", "MulNoNan", "Div", "DivNoNan", "RealDiv", "FloorDiv", "FloorMod",
          "Mod", "TruncateDiv", "TruncateMod", "Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Inv",
          "Exp", "Expm1", "Log", "Log1p", "Pow", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Atan2", "Sinh", "Cosh",
          "Tanh", "Asinh", "Acosh", "Atanh", "Sigmoid", "Erf", "Erfc", "Floor", "Ceil", "Round", "Rint", "Maximum",
          "Minimum", "SquaredDifference", "Xlogy", "Xdivy", "Sum", "Mean", "Max", "Min", "Prod", "All", "Any",
          "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot",
          "IsNan", "IsInf", "IsFinite", "ClipByValue", "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"),
      // neural-network layers
      set("Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2", "BiasAdd",
          "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Softsign", "Softmax", "LogSoftmax", "MaxPool",
          "MaxPoolV2", "MaxPool3D", "AvgPool", "AvgPool3D", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
          "LRN", "ResizeNearestNeighbor", "ResizeBilinear", "ResizeBicubic", "ResizeArea", "L2Loss",
          "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits"),
      // gradients of the above (attribution signatures)
      set("ReluGrad", "Relu6Grad", "EluGrad", "SeluGrad", "LeakyReluGrad", "SoftplusGrad", "SigmoidGrad", "TanhGrad",
          "RsqrtGrad", "SqrtGrad", "ReciprocalGrad", "InvGrad", "BiasAddGrad", "Conv2DBackpropFilter",
          "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter", "MaxPoolGrad", "MaxPoolGradV2",
          "AvgPoolGrad", "ResizeNearestNeighborGrad", "ResizeBilinearGrad", "FusedBatchNormGrad",
          "FusedBatchNormGradV3"),
      // counter-based random numbers: a pure function of an explicit seed
      set("StatelessRandomNormal", "StatelessRandomUniform", "StatelessTruncatedNormal", "StatelessRandomNormalV2",
          "StatelessRandomUniformV2", "StatelessTruncatedNormalV2", "StatelessRandomGetKeyCounter"));

  /**
   * Added for nodes used only by the saver's restore op: it reads the bundle's own checkpoint (variables/), whose
   * path TensorFlow's loader feeds in.
   */
  static final Set<String> RESTORE = set("RestoreV2", "Restore", "RestoreSlice");

  /**
   * Added for nodes used only by the saver's save tensor (which this plugin never runs): writing a checkpoint and the
   * string ops that build its file names.
   */
  static final Set<String> SAVE = set("SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints", "ShardedFilename",
      "ShardedFilespec", "StringJoin", "StaticRegexFullMatch", "DisableCopyOnRead");

  /** Whether an op type may run in a context. */
  static boolean allowed(String op, Context c) {
    if (COMPUTE.contains(op)) return true;
    if (c == Context.SERVING) return false;
    if (RESTORE.contains(op)) return true;
    return c == Context.SAVE && SAVE.contains(op);
  }

  @SafeVarargs
  private static Set<String> union(Set<String>... sets) {
    Set<String> all = new HashSet<>();
    for (Set<String> s : sets) all.addAll(s);
    return Collections.unmodifiableSet(all);
  }
}
