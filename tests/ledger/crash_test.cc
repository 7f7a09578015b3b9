// A writer under concurrent load (appropriations through the full domain, with projections)
// is killed with SIGKILL at random moments. After every kill the store opens, verifies, holds
// for each writer thread a prefix of what it submitted that includes every submission it saw
// acknowledged, each exactly once, and its stored projections equal a replay of the log.
//
// FUNDLEDGER_CRASH_CYCLES sets the number of kill cycles (default 50).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "replay/chain_verifier.h"
#include "replay/rebuild.h"
#include "tests/test_util.h"

extern char** environ;

namespace fundledger {
namespace {

constexpr int kWriterThreads = 3;

int Cycles() {
  const char* env = std::getenv("FUNDLEDGER_CRASH_CYCLES");
  return env != nullptr ? std::atoi(env) : 50;
}

struct Ack {
  uint64_t first_index;
  uint64_t count;
};

// Moves every complete "ack <thread> <seq> <first index> <count>" line out of `buffer`.
void ParseAcks(std::string& buffer, std::map<std::pair<int, int>, Ack>& acks) {
  size_t eol;
  while ((eol = buffer.find('\n')) != std::string::npos) {
    std::istringstream line(buffer.substr(0, eol));
    buffer.erase(0, eol + 1);
    std::string word;
    int t = 0, seq = 0;
    Ack a{};
    line >> word >> t >> seq >> a.first_index >> a.count;
    acks[{t, seq}] = a;
  }
}

// Runs one writer until `acks_before_kill` acknowledgements (or until it dies), then kills it.
std::map<std::pair<int, int>, Ack> RunAndKill(const std::string& dir, int cycle,
                                              int acks_before_kill, int extra_delay_us) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string cycle_s = std::to_string(cycle), threads_s = std::to_string(kWriterThreads);
  std::string exe = FUNDLEDGER_CRASH_WRITER_PATH;
  char* argv[] = {exe.data(), const_cast<char*>(dir.c_str()), cycle_s.data(), threads_s.data(),
                  nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);

  std::map<std::pair<int, int>, Ack> acks;
  std::string buffer;
  char chunk[4096];
  while (static_cast<int>(acks.size()) < acks_before_kill) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // the writer exited on its own: the assertions below will say why
    buffer.append(chunk, static_cast<size_t>(n));
    ParseAcks(buffer, acks);
  }
  if (extra_delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(extra_delay_us));
  ::kill(pid, SIGKILL);
  // Acknowledgements already in the pipe were seen by the writer as committed: count them too.
  for (;;) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  ParseAcks(buffer, acks);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself (status " << status << ")";
  return acks;
}

TEST(Crash, KilledWriterLosesNothingAcknowledgedAndLeavesAPrefix) {
  testing::TempDir tmp;
  std::string dir = tmp.Sub("ledger");
  {
    std::unique_ptr<Ledger> ledger =
        std::move(Ledger::Create(dir, "crash.fundledger.local")).value();
    std::vector<DomainEvent> funds;
    for (int t = 0; t < kWriterThreads; ++t) {
      fb::FundOpenedT f;
      f.fund_id = "F-" + std::to_string(t);
      f.name = "fund";
      f.organisation = "bureau";
      f.currency = "CNY";
      funds.emplace_back(std::move(f));
    }
    ASSERT_TRUE(ledger->Submit(Actor{"admin", fb::Role::admin}, "funds", std::move(funds)).ok());
  }
  std::mt19937_64 rng(0xC4A5);
  const int cycles = Cycles();
  uint64_t total_acked = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    int acks_before_kill = static_cast<int>(rng() % 120);
    int delay_us = static_cast<int>(rng() % 3000);
    std::map<std::pair<int, int>, Ack> acks = RunAndKill(dir, cycle, acks_before_kill, delay_us);
    total_acked += acks.size();

    // The domain and projections reopen (the open compares stored projections with a replay).
    {
      Projections projections;
      Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(dir, WithProjections(projections, {}));
      ASSERT_TRUE(ledger.ok()) << "cycle " << cycle << ": " << ledger.status().ToString();
      RebuildReport rebuilt = RebuildProjections((*ledger)->log(), {});
      ASSERT_TRUE(rebuilt.verify.valid) << "cycle " << cycle << ": " << rebuilt.verify.reason;
      Hash live =
          (*ledger)->domain().Read([&](const DomainState& at) { return projections.digest(at); });
      ASSERT_EQ(HashHex(rebuilt.digest), HashHex(live)) << "cycle " << cycle;
      ASSERT_EQ(rebuilt.sum_of_balances, 0);
    }
    Result<std::unique_ptr<Log>> log = Log::Open(dir);
    ASSERT_TRUE(log.ok()) << "cycle " << cycle << ": " << log.status().ToString();

    // What this cycle's writer left in the log, by thread and sequence number.
    std::map<std::pair<int, int>, std::vector<uint64_t>> stored;
    std::string prefix = "c" + std::to_string(cycle) + "-t";
    ASSERT_TRUE((*log)
                    ->ScanEntries(0, (*log)->size(),
                                  [&](uint64_t i, ByteView bytes) {
                                    EntryView e = *DecodeEntry(bytes);
                                    if (!e.idempotency_key.starts_with(prefix)) return Status::Ok();
                                    int t = 0, seq = 0;
                                    std::sscanf(
                                        std::string(e.idempotency_key).c_str() + prefix.size(),
                                        "%d-%d", &t, &seq);
                                    stored[{t, seq}].push_back(i);
                                    return Status::Ok();
                                  })
                    .ok());

    for (const auto& [key, ack] : acks) {
      auto it = stored.find(key);
      ASSERT_NE(it, stored.end()) << "cycle " << cycle << ": acknowledged submission t" << key.first
                                  << "-" << key.second << " is lost";
      ASSERT_EQ(it->second.size(), ack.count) << "appended more than once or partially";
      ASSERT_EQ(it->second.front(), ack.first_index);
    }
    for (int t = 0; t < kWriterThreads; ++t) {
      int seq = 0;
      while (stored.count({t, seq})) {
        // Submissions are atomic: all of a submission's entries, adjacent.
        const std::vector<uint64_t>& idx = stored[{t, seq}];
        ASSERT_EQ(idx.size(), static_cast<size_t>(1 + seq % 3));
        for (size_t k = 1; k < idx.size(); ++k) ASSERT_EQ(idx[k], idx[0] + k);
        ++seq;
      }
      // A prefix: nothing after the first gap.
      for (const auto& [key, idx] : stored) {
        if (key.first == t) {
          ASSERT_LT(key.second, seq) << "gap in thread " << t << "'s submissions";
        }
      }
    }
    ASSERT_TRUE((*log)->Close().ok());
  }
  std::cout << "crash: " << cycles << " SIGKILL cycles, " << total_acked
            << " acknowledged submissions, none lost\n";
}

}  // namespace
}  // namespace fundledger
