// Mutex and SharedMutex: std::mutex and std::shared_mutex with clang thread-safety
// annotations, so that `FL_GUARDED_BY(mu_)` on a member is checked at compile time
// (crypto/thread_annotations.h). MutexLock, WriterLock and ReaderLock hold one for a scope.
//
//   mutable SharedMutex mu_;
//   State state_ FL_GUARDED_BY(mu_);
//   int Read() const { ReaderLock lock(mu_); return state_.n; }
//
// Condition variables wait on `mutex.native()` inside a scope that holds the lock.
#pragma once

#include <mutex>
#include <shared_mutex>

#include "crypto/thread_annotations.h"

namespace fundledger {

class FL_CAPABILITY("mutex") Mutex {
 public:
  void Lock() FL_ACQUIRE() { mu_.lock(); }
  void Unlock() FL_RELEASE() { mu_.unlock(); }
  bool TryLock() FL_TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // For std::condition_variable; the analysis cannot follow a wait, which re-acquires it.
  std::mutex& native() FL_RETURN_CAPABILITY(this) { return mu_; }

 private:
  std::mutex mu_;
};

class FL_CAPABILITY("shared mutex") SharedMutex {
 public:
  void Lock() FL_ACQUIRE() { mu_.lock(); }
  void Unlock() FL_RELEASE() { mu_.unlock(); }
  void LockShared() FL_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void UnlockShared() FL_RELEASE_SHARED() { mu_.unlock_shared(); }
  bool TryLockShared() FL_TRY_ACQUIRE_SHARED(true) { return mu_.try_lock_shared(); }

 private:
  std::shared_mutex mu_;
};

class FL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) FL_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() FL_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class FL_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) FL_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterLock() FL_RELEASE() { mu_.Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

class FL_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) FL_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.LockShared(); }
  ~ReaderLock() FL_RELEASE() { mu_.UnlockShared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace fundledger
