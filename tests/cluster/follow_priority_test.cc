// The follow thread's priority: lowered on the calling thread only (Linux keeps the nice value
// per thread), inherited by the threads it starts, never below the kernel's lowest, and raised
// back for every thread at it when the process may (a node taking over); a process leading its
// session lowers its autogroup and raises it again.
#include "cluster/follow_priority.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace fundledger::testing {
namespace {

TEST(FollowPriority, LowersTheCallingThreadOnlyAndItsChildrenInherit) {
  const int serving = ThisThreadNice();
  int lowered = 0, child = 0;
  std::thread follow([&] {
    Result<int> nice = LowerThisThreadPriority(kFollowNiceIncrement);
    ASSERT_TRUE(nice.ok()) << nice.status().ToString();
    lowered = ThisThreadNice();
    EXPECT_EQ(*nice, lowered);
    std::thread([&] { child = ThisThreadNice(); }).join();
  });
  follow.join();
  EXPECT_EQ(lowered, std::min(serving + kFollowNiceIncrement, kNiceLowest));
  EXPECT_EQ(child, lowered);
  EXPECT_EQ(ThisThreadNice(), serving);  // the thread that serves keeps its priority
}

TEST(FollowPriority, StopsAtTheLowestPriority) {
  int twice = 0;
  std::thread follow([&] {
    ASSERT_TRUE(LowerThisThreadPriority(kNiceLowest).ok());
    Result<int> again = LowerThisThreadPriority(kFollowNiceIncrement);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    twice = *again;
  });
  follow.join();
  EXPECT_EQ(twice, kNiceLowest);
}

TEST(FollowPriority, ThreadsBelowServingAreRaisedBackWhenTheProcessMay) {
  if (!CanRaisePriority()) GTEST_SKIP() << "this process may not raise a thread's priority";
  const int serving = ThisThreadNice();
  const int below = std::min(serving + kFollowNiceIncrement, kNiceLowest);
  if (below == serving) GTEST_SKIP() << "the process already runs at the lowest priority";
  std::promise<void> lowered, raised;
  int after = 0;
  std::thread follow([&] {
    ASSERT_TRUE(LowerThisThreadPriority(kFollowNiceIncrement).ok());
    lowered.set_value();
    raised.get_future().wait();
    after = ThisThreadNice();
  });
  lowered.get_future().wait();
  Result<int> count = RaiseThreadsTo(below, serving);
  raised.set_value();
  follow.join();
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(after, serving);
  EXPECT_EQ(ThisThreadNice(), serving);
}

TEST(FollowPriority, AProcessSharingItsSessionLeavesTheSessionsGroupAlone) {
  if (getsid(0) == getpid()) GTEST_SKIP() << "the test leads its session";
  EXPECT_FALSE(OwnAutogroupNice().has_value());
}

// In a child of its own session (as scripts/cluster starts a node): its autogroup goes below
// serving and back, without privilege. Exit codes: 0 ok, 77 no autogroups, else the step failed.
TEST(FollowPriority, AProcessLeadingItsSessionLowersItsGroupAndRaisesItAgain) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setsid() < 0) _exit(1);
    const std::optional<int> serving = OwnAutogroupNice();
    if (!serving) _exit(77);
    const int below = std::min(*serving + kFollowNiceIncrement, kNiceLowest);
    if (!SetOwnAutogroupNice(below).ok() || OwnAutogroupNice() != below) _exit(2);
    if (!SetOwnAutogroupNice(*serving).ok() || OwnAutogroupNice() != serving) _exit(3);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no autogroups on this kernel";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: setsid, 2: lowering, 3: raising again";
}

}  // namespace
}  // namespace fundledger::testing
