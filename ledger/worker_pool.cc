#include "ledger/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <mutex>

namespace fundledger {

WorkerPool::Group::~Group() {
  MutexLock lock(mu_);
  assert(pending_ == 0 && "a group is destroyed with tasks still pending");
}

WorkerPool::WorkerPool(std::string name, size_t threads)
    : name_(std::move(name)), threads_max_(std::min(threads, kThreadsMax)) {
  assert(name_.size() <= 12);  // Linux thread names hold 15 characters: name, '-', a number
}

WorkerPool::~WorkerPool() {
  std::vector<std::thread> threads;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  has_task_.notify_all();
  for (std::thread& t : threads) t.join();
}

void WorkerPool::StartLocked() {
  threads_.reserve(threads_max_);
  for (size_t i = 0; i < threads_max_; ++i) threads_.emplace_back([this, i] { RunTasks(i); });
}

void WorkerPool::Submit(Group& group, std::function<void()> task) {
  if (threads_max_ == 0) {
    task();
    return;
  }
  {
    MutexLock lock(group.mu_);
    ++group.pending_;
  }
  MutexLock lock(mu_);
  assert(!stopping_);
  if (threads_.empty()) StartLocked();
  std::unique_lock<std::mutex> wait(mu_.native(), std::adopt_lock);
  while (queue_.size() >= kQueueTasksMax) has_room_.wait(wait);
  wait.release();  // the MutexLock unlocks
  queue_.push_back(Task{&group, std::move(task)});
  has_task_.notify_one();
}

void WorkerPool::Wait(Group& group) {
  MutexLock lock(group.mu_);
  std::unique_lock<std::mutex> wait(group.mu_.native(), std::adopt_lock);
  while (group.pending_ > 0) group.done_.wait(wait);
  wait.release();
}

void WorkerPool::ForEachPart(size_t n, size_t parts,
                             const std::function<void(size_t, size_t)>& fn) {
  parts = std::clamp<size_t>(parts, 1, threads_max_ + 1);
  Group group;
  for (size_t p = 1; p < parts; ++p) {
    size_t begin = n * p / parts, end = n * (p + 1) / parts;
    Submit(group, [&fn, begin, end] { fn(begin, end); });
  }
  fn(0, n / parts);
  Wait(group);
}

void WorkerPool::Finished(Group& group) {
  MutexLock lock(group.mu_);
  assert(group.pending_ > 0);
  if (--group.pending_ == 0) group.done_.notify_all();
}

void WorkerPool::RunTasks(size_t thread) {
  std::string name = name_ + "-" + std::to_string(thread);
  pthread_setname_np(pthread_self(), name.c_str());
  for (;;) {
    Task task;
    {
      MutexLock lock(mu_);
      std::unique_lock<std::mutex> wait(mu_.native(), std::adopt_lock);
      while (queue_.empty() && !stopping_) has_task_.wait(wait);
      wait.release();
      if (queue_.empty()) return;  // stopping, and every queued task has run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    has_room_.notify_one();
    task.run();
    Finished(*task.group);
  }
}

}  // namespace fundledger
