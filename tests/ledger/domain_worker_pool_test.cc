// The domain's helper threads: the pool runs every task of a group before Wait returns, on its
// own named threads, never more at once than it has; and a ledger checks, pays and replays a
// large roll to exactly the same state with no helper, one, or two.
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "crypto/sha256.h"
#include "ledger/worker_pool.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

std::string ThreadName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST(WorkerPool, RunsEveryTaskOfAGroupOnItsOwnThreadsBeforeWaitReturns) {
  WorkerPool pool("fl-test", 2);
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::set<std::string> names;
  WorkerPool::Group group;
  // More tasks than the queue holds: Submit waits for room.
  for (size_t i = 0; i < 10 * WorkerPool::kQueueTasksMax; ++i) {
    pool.Submit(group, [&] {
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
      names.insert(ThreadName());
      ++ran;
    });
  }
  pool.Wait(group);
  EXPECT_EQ(ran.load(), static_cast<int>(10 * WorkerPool::kQueueTasksMax));
  EXPECT_FALSE(ids.count(std::this_thread::get_id())) << "a task ran on the caller";
  EXPECT_LE(ids.size(), 2u);
  for (const std::string& name : names) EXPECT_TRUE(name.starts_with("fl-test-")) << name;
}

TEST(WorkerPool, WithoutHelpersATaskRunsOnTheCallerInsideSubmit) {
  WorkerPool pool("fl-test", 0);
  WorkerPool::Group group;
  std::thread::id ran_on;
  pool.Submit(group, [&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  pool.Wait(group);
}

TEST(WorkerPool, ForEachPartCoversTheRangeExactlyOnce) {
  for (size_t helpers : {0, 1, 2}) {
    WorkerPool pool("fl-test", helpers);
    for (size_t n : {0, 1, 2, 7, 1000}) {
      for (size_t parts : {1, 2, 3, 8}) {
        std::vector<std::atomic<int>> seen(n);
        pool.ForEachPart(n, parts, [&](size_t begin, size_t end) {
          for (size_t i = begin; i < end; ++i) ++seen[i];
        });
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(seen[i].load(), 1) << "helpers " << helpers << " n " << n << " parts " << parts;
      }
    }
  }
}

// One city, its roll checked (with bad lines), paid and replayed by a ledger with a given
// number of helper threads: what a clerk sees and what the state holds.
class DomainHelpers : public LedgerFixture {
 protected:
  struct RollOutcome {
    std::vector<std::string> rejected;  // line: rule
    std::string state;                  // the domain state's bytes after the approval
    std::string replayed;               // and after a replay of the log
    std::string digest;                 // the projections'
  };

  RollOutcome PayARoll(size_t helpers) {
    constexpr int kPeople = 5000;  // above the 4,096 lines from which the helpers take part
    Recreate(helpers);
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    OpenFund("F", fb::FundKind::subsidy, {"dibao"});
    Appropriate("F", "general", int64_t{kPeople} * 104500);
    std::vector<DomainEvent> city;
    std::vector<RollLine> lines, bad_lines;
    for (int i = 0; i < kPeople; ++i) {
      std::string id = "P" + std::to_string(i);
      fb::BeneficiaryRegisteredT b;
      b.beneficiary_id = id;
      b.household_id = "H" + id;
      b.region_code = "110105";
      Hash h = Sha256::Digest(AsBytes(id));  // the same in every ledger, unlike the vault's
      b.id_commitment.assign(h.begin(), h.end());
      b.birth_month = 196001;
      b.registered_date = 20250101;
      city.emplace_back(std::move(b));
      fb::EnrolledT e;
      e.beneficiary_id = id;
      e.program_id = "dibao";
      e.monthly_amount_fen = 104500;
      e.from_month = 202501;
      e.approval_doc = "a";
      city.emplace_back(std::move(e));
      uint32_t no = static_cast<uint32_t>(i + 1);
      lines.push_back({no, id, "dibao", 202503, 104500});
      bad_lines.push_back({no, i % 997 == 0 ? "NOBODY" + id : id, "dibao", 202503,
                           i % 1009 == 0 ? 104501 : 104500});
    }
    Ok(Do(city, kAdmin));
    RollOutcome out;
    Result<AppendResult> refused = Prepare("R0", "F", "general", 202503, bad_lines);
    for (const Status& d : refused.status().details())  // the result outlives the loop
      out.rejected.push_back(std::to_string(d.line()) + ": " + d.rule());
    Ok(Prepare("R1", "F", "general", 202503, lines));
    Ok(Approve("R1"));
    out.state = ledger_->domain().SaveState();
    out.digest = HashHex(projections().digest());
    Domain replayed({}, nullptr, helpers);
    EXPECT_TRUE(replayed.Replay(ledger_->log()).ok());
    out.replayed = replayed.SaveState();
    return out;
  }
  // A fresh ledger whose domain has `helpers` helper threads.
  void Recreate(size_t helpers) {
    if (ledger_) {
      ASSERT_TRUE(ledger_->Close().ok());
    }
    ledger_.reset();
    dir_ = tmp_.Sub("helpers-" + std::to_string(helpers));
    projections_ = std::make_unique<Projections>();
    LedgerOptions options;
    options.domain_helper_threads = helpers;
    Result<std::unique_ptr<Ledger>> l = Ledger::Create(
        dir_, "city.fundledger.local", WithProjections(*projections_, std::move(options)));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
  }
};

TEST_F(DomainHelpers, ARollIsCheckedPaidAndReplayedTheSameWithAnyNumberOfHelpers) {
  RollOutcome none = PayARoll(0);
  ASSERT_EQ(none.rejected.size(), 10u);  // 6 unknown people, 4 more over the cap
  EXPECT_EQ(none.rejected.front(), "1: unknown_beneficiary");
  EXPECT_TRUE(none.replayed == none.state);
  for (size_t helpers : {1, 2}) {
    RollOutcome with = PayARoll(helpers);
    EXPECT_EQ(with.rejected, none.rejected) << helpers << " helpers";
    EXPECT_TRUE(with.state == none.state) << helpers << " helpers";
    EXPECT_TRUE(with.replayed == none.state) << helpers << " helpers";
    EXPECT_EQ(with.digest, none.digest) << helpers << " helpers";
  }
}

}  // namespace
}  // namespace fundledger::testing
