// WorkerPool: a fixed set of named helper threads that run tasks from a bounded queue, so that
// the work a caller splits (half of a large roll's line checks, the observers beside a large
// approval, the observers during a replay) runs on threads started once, not one per request.
//
// The pool's size is fixed when it is built; its threads start with the first task and stop
// when the pool is destroyed, after the tasks queued by then have run. A task belongs to a
// Group, and Wait(group) returns once every task submitted in it has run. With no helper
// threads a task runs on the submitting thread, inside Submit.
//
//   WorkerPool pool("fl-domain", 2);
//   WorkerPool::Group group;
//   pool.Submit(group, [&] { Check(half, end); });
//   Check(0, half);
//   pool.Wait(group);  // both halves are done
//
// Thread safety: Submit and Wait may be called from any thread except a pool thread (a task
// that waited for others could hold the helper they need). Submit waits while kQueueTasksMax
// tasks are queued. Tasks must not throw; what they share with the submitter is theirs to
// guard (the domain's tasks only read the domain state, or touch only the observers).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/mutex.h"

namespace fundledger {

class WorkerPool {
 public:
  static constexpr size_t kQueueTasksMax = 64;
  static constexpr size_t kThreadsMax = 64;

  // The tasks a caller waits for together.
  class Group {
   public:
    Group() = default;
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;
    ~Group();  // asserts that nothing is pending: Wait first

   private:
    friend class WorkerPool;
    Mutex mu_;
    std::condition_variable done_;
    size_t pending_ FL_GUARDED_BY(mu_) = 0;
  };

  // `name` (at most 12 characters) names the threads: name-0, name-1, ...
  WorkerPool(std::string name, size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t threads() const { return threads_max_; }

  void Submit(Group& group, std::function<void()> task) FL_EXCLUDES(mu_);
  void Wait(Group& group);
  // Runs fn(begin, end) over [0, n) cut into `parts` about equal pieces: the first on the
  // caller, the others on helpers (at most one per helper); returns when all have run.
  void ForEachPart(size_t n, size_t parts, const std::function<void(size_t, size_t)>& fn);

 private:
  struct Task {
    Group* group = nullptr;
    std::function<void()> run;
  };
  void StartLocked() FL_REQUIRES(mu_);
  void RunTasks(size_t thread) FL_EXCLUDES(mu_);
  static void Finished(Group& group);

  const std::string name_;
  const size_t threads_max_;
  Mutex mu_;
  std::condition_variable has_task_, has_room_;  // waited on with mu_
  std::deque<Task> queue_ FL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ FL_GUARDED_BY(mu_);  // empty until the first task
  bool stopping_ FL_GUARDED_BY(mu_) = false;
};

}  // namespace fundledger
