// jemalloc's settings for every program we build (CMakeLists.txt links this object into each),
// read at the first allocation through jemalloc's `malloc_conf` symbol; MALLOC_CONF in the
// environment still overrides them.
//
// oversize_threshold:0 -- no separate arena for allocations of 8 MiB and more. jemalloc gives
// such an arena's freed pages back to the kernel at once, so every large buffer a roll frees
// (the upload, the staged entries, per-line arrays) is faulted in again page by page the next
// time: ~480k page faults on the writer for a 1M-line roll, whose kernel time (1.1-3.2 s on the
// 2-core benchmark VM) was the most variable part of the roll's CPU
// (benchmarks/results/2026-12-07-vm-partial-cluster9.md). In the ordinary arenas they are
// reused, and still handed back after the usual decay (10 s) once the program is idle.
extern "C" {
const char* malloc_conf = "oversize_threshold:0";
}
