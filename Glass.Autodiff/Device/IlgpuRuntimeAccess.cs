using System.Runtime.CompilerServices;

// ILGPU's CPU accelerator emits the kernel launcher into a dynamic assembly named "ILGPURuntime";
// it must see the tape kernels' internal parameter types (e.g. BroadcastShape) so they can stay internal.
// Without it every tape kernel launch on the ILGPU CPU accelerator fails with "Access is denied: BroadcastShape".
[assembly: InternalsVisibleTo("ILGPURuntime")]
