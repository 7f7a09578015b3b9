// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
//
// They say which mutex guards which data and which functions need it held; clang checks them
// at compile time with -Wthread-safety (the fuzzing build compiles every library with clang,
// so CI checks them). Under GCC they expand to nothing. Use them with the annotated types in
// crypto/mutex.h: libstdc++'s std::mutex carries no annotations of its own.
//
//   Mutex mu_;
//   int balance_ FL_GUARDED_BY(mu_);
//   void Add(int n) FL_EXCLUDES(mu_) { MutexLock lock(mu_); balance_ += n; }
//   void AddLocked(int n) FL_REQUIRES(mu_) { balance_ += n; }
//
// This header sits in crypto/ because that folder is the bottom of the dependency graph.
#pragma once

#if defined(__clang__)
#define FL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define FL_THREAD_ANNOTATION(x)
#endif

#define FL_CAPABILITY(x) FL_THREAD_ANNOTATION(capability(x))
#define FL_SCOPED_CAPABILITY FL_THREAD_ANNOTATION(scoped_lockable)
#define FL_GUARDED_BY(x) FL_THREAD_ANNOTATION(guarded_by(x))
#define FL_PT_GUARDED_BY(x) FL_THREAD_ANNOTATION(pt_guarded_by(x))
#define FL_REQUIRES(...) FL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define FL_REQUIRES_SHARED(...) FL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define FL_ACQUIRE(...) FL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define FL_ACQUIRE_SHARED(...) FL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define FL_RELEASE(...) FL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define FL_RELEASE_SHARED(...) FL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define FL_RELEASE_GENERIC(...) FL_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define FL_TRY_ACQUIRE(...) FL_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define FL_TRY_ACQUIRE_SHARED(...) FL_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
#define FL_EXCLUDES(...) FL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define FL_ASSERT_CAPABILITY(x) FL_THREAD_ANNOTATION(assert_capability(x))
#define FL_RETURN_CAPABILITY(x) FL_THREAD_ANNOTATION(lock_returned(x))
#define FL_NO_THREAD_SAFETY_ANALYSIS FL_THREAD_ANNOTATION(no_thread_safety_analysis)
