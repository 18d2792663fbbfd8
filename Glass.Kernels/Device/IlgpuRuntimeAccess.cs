using System.Runtime.CompilerServices;

// ILGPU's CPU accelerator emits the kernel launcher into a dynamic assembly named "ILGPURuntime";
// it must see internal kernel parameter types (e.g. Linalg.GemmShape) so kernels can stay internal.
[assembly: InternalsVisibleTo("ILGPURuntime")]
