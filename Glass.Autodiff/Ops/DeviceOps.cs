namespace Glass.Autodiff.Ops;

/// <summary>Tape ops on an ILGPU accelerator (placeholder while the kernels are written).</summary>
internal static class DeviceOps
{
    internal enum UnaryKind { Scale, Exp, Log, Sqrt, Pow, Abs, Relu, LeakyRelu, Tanh, Softplus, Gelu, AcosClamped }
    internal enum BinaryKind { Add, Sub, Mul, Div }
    public static Var Unary(Var a, UnaryKind kind, double param) => throw new NotSupportedException(kind.ToString());
    public static Var Binary(Var a, Var b, BinaryKind kind) => throw new NotSupportedException(kind.ToString());
    public static Var Linear(Var x, Var w, Var? b) => throw new NotSupportedException("Linear");
}
