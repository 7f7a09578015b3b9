// Micro-benchmarks of the log: leaf hashing, tree append, proof generation (in memory and
// from the RocksDB store), and durable batched append (~200-byte entries, batch 1..8192).
// Ends with a one-line summary of durable entries/s. Run through scripts/bench.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <random>

#include "benchmarks/roll_city.h"
#include "ledger/ledger.h"
#include "ledger/log.h"
#include "projections/projections.h"

namespace fundledger {
namespace {

constexpr size_t kEntryPayloadText = 24;  // with the envelope, entries are ~200 bytes

// The benchmarks' own directory under the system's temporary one: every store they make lives
// there, with what a ledger keeps beside its directory (DIR.keys), and main removes it.
std::filesystem::path RunDir() {
  return std::filesystem::temp_directory_path() /
         ("fundledger_bench_" + std::to_string(::getpid()));
}

std::string TempPath(const std::string& name) {
  std::filesystem::create_directories(RunDir());
  return (RunDir() / name).string();
}

NewEntry BenchEntry(uint64_t i) {
  std::string text = "roll 2025-03 line " + std::to_string(i) + " ";
  text.resize(kEntryPayloadText, 'x');
  return NewEntry{"clerk.li", fb::Role::maker, fb::EventType::Memo, EncodeMemo(text, "bench")};
}

void BM_LeafHash(benchmark::State& state) {
  Bytes entry(static_cast<size_t>(state.range(0)), 0xab);
  for (auto _ : state) benchmark::DoNotOptimize(HashLeaf(entry));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LeafHash)->Arg(200)->Arg(4096);

void BM_TreeAppend(benchmark::State& state) {
  MerkleFrontier frontier;
  Hash leaf = HashLeaf(AsBytes("leaf"));
  uint64_t nodes = 0;
  for (auto _ : state) {
    frontier.Append(leaf, [&](uint8_t, uint64_t, const Hash&) { ++nodes; });
  }
  benchmark::DoNotOptimize(nodes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeAppend);

const MemoryTree& MillionLeafTree() {
  static MemoryTree* tree = [] {
    auto* t = new MemoryTree;
    for (uint64_t i = 0; i < 1'000'000; ++i) t->Append(HashLeaf(AsBytes(std::to_string(i))));
    return t;
  }();
  return *tree;
}

void BM_InclusionProofInMemory(benchmark::State& state) {
  const MemoryTree& tree = MillionLeafTree();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    uint64_t index = rng() % tree.size();
    benchmark::DoNotOptimize(InclusionProof(tree, index, tree.size()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofInMemory);

void BM_ConsistencyProofInMemory(benchmark::State& state) {
  const MemoryTree& tree = MillionLeafTree();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    uint64_t old_size = 1 + rng() % (tree.size() - 1);
    benchmark::DoNotOptimize(ConsistencyProof(tree, old_size, tree.size()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProofInMemory);

// A store of 200k entries shared by the proof-from-store benchmark.
Log& StoreWithEntries() {
  static Log* log = [] {
    std::string dir = TempPath("proofs");
    std::filesystem::remove_all(dir);
    LogOptions options;
    options.sync = false;  // building the fixture, not measuring it
    Log* l = std::move(Log::Create(dir, "bench.fundledger.local", options)).value().release();
    for (uint64_t b = 0; b < 25; ++b) {
      Submission s;
      for (uint64_t i = 0; i < 8192; ++i) s.entries.push_back(BenchEntry(b * 8192 + i));
      if (!l->Append(std::move(s)).ok()) std::abort();
    }
    return l;
  }();
  return *log;
}

void BM_InclusionProofFromStore(benchmark::State& state) {
  Log& log = StoreWithEntries();
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    uint64_t index = rng() % log.size();
    benchmark::DoNotOptimize(log.ProveInclusion(index, log.size()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofFromStore);

// Durable append: each iteration is one submission of `batch` entries, committed with fsync,
// signing a checkpoint in every commit (the default) or at most every `interval_ms`.
void DurableAppend(benchmark::State& state, int64_t interval_ms) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::string dir = TempPath("append_" + std::to_string(batch) + "_" + std::to_string(interval_ms));
  std::filesystem::remove_all(dir);
  LogOptions options;
  options.checkpoint_interval_ms = interval_ms;
  std::unique_ptr<Log> log = std::move(Log::Create(dir, "bench.fundledger.local", options)).value();
  std::vector<Submission> prepared(8);
  for (size_t p = 0; p < prepared.size(); ++p) {
    for (size_t i = 0; i < batch; ++i) prepared[p].entries.push_back(BenchEntry(p * batch + i));
  }
  size_t entry_bytes = EncodeEntry(prepared[0].entries[0], "", 1, 0, Hash{}).size();
  uint64_t n = 0;
  for (auto _ : state) {
    Result<AppendResult> r = log->Append(prepared[n++ % prepared.size()]);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  state.counters["entry_bytes"] = static_cast<double>(entry_bytes);
  log.reset();
  std::filesystem::remove_all(dir);
}
void BM_DurableAppend(benchmark::State& state) { DurableAppend(state, 0); }
BENCHMARK(BM_DurableAppend)->RangeMultiplier(8)->Range(1, 8192)->UseRealTime();
// What `serve --checkpoint-interval-ms 1000` saves where a commit carries few entries.
void BM_DurableAppendCheckpointEachSecond(benchmark::State& state) { DurableAppend(state, 1000); }
BENCHMARK(BM_DurableAppendCheckpointEachSecond)->Arg(1)->Arg(64)->UseRealTime();

// A monthly roll of `lines` lines through field checks, every rule, append, tree, projections
// and fsync: prepare and approve, timed together. The fixture (people, enrollments, money) is
// built once per size with large submissions.
struct RollFixture : bench::RollCity {
  int32_t next_period = 202501;
};

// Owned here and closed by main before exit: a ledger closed by a static destructor flushes
// RocksDB after the runtime has torn down what its logger uses (a crash at exit).
std::map<size_t, std::unique_ptr<RollFixture>>& RollFixtures() {
  static std::map<size_t, std::unique_ptr<RollFixture>> fixtures;
  return fixtures;
}

RollFixture& Roll(size_t people) {
  auto& f = RollFixtures()[people];
  if (f) return *f;
  f = std::make_unique<RollFixture>();
  std::string dir = TempPath("roll_" + std::to_string(people));
  std::filesystem::remove_all(dir);
  bench::BuildRollCity(*f, dir, people);
  return *f;
}

void BM_MonthlyRoll(benchmark::State& state) {
  const size_t lines = static_cast<size_t>(state.range(0));
  RollFixture& f = Roll(lines);
  Actor maker{"clerk", fb::Role::maker}, checker{"checker", fb::Role::checker};
  for (auto _ : state) {
    int32_t period = f.next_period;
    f.next_period = MonthFromIndex(MonthIndex(period) + 1);
    std::vector<RollLine> roll = bench::RollLines(lines, period);
    std::string batch = "R" + std::to_string(period);
    Result<AppendResult> prepared =
        f.ledger->PrepareBatch(maker, batch, batch, "F", "general", period, "roll", roll);
    fb::DisbursementBatchApprovedT approve;
    approve.batch_id = batch;
    Result<AppendResult> approved = f.ledger->Submit(checker, batch + "-ok", {approve});
    if (!prepared.ok() || !approved.ok()) {
      state.SkipWithError(
          (prepared.ok() ? approved.status() : prepared.status()).ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(lines));
  state.counters["lines"] = static_cast<double>(lines);
}
BENCHMARK(BM_MonthlyRoll)
    ->Arg(100'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Remembers the best durable-append rate for the summary line.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.benchmark_name().rfind("BM_MonthlyRoll", 0) == 0) {
        auto it = run.counters.find("items_per_second");
        if (it != run.counters.end()) roll_rate_ = it->second.value;
      }
      if (run.benchmark_name().rfind("BM_DurableAppend/", 0) != 0)
        continue;  // signing every commit
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end() && it->second.value > best_rate_) {
        best_rate_ = it->second.value;
        best_name_ = run.benchmark_name();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double best_rate_ = 0;
  double roll_rate_ = 0;
  std::string best_name_;
};

}  // namespace
}  // namespace fundledger

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  fundledger::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (reporter.best_rate_ > 0) {
    std::cout << "summary: durable append " << static_cast<uint64_t>(reporter.best_rate_)
              << " entries/s (best: " << reporter.best_name_
              << ", ~200-byte entries, fsync per commit)\n";
  }
  if (reporter.roll_rate_ > 0) {
    std::cout << "summary: monthly roll of 100,000 lines "
              << static_cast<uint64_t>(reporter.roll_rate_)
              << " lines/s end to end (rules, append, tree, projections, fsync)";
    if (reporter.best_rate_ > 0) {
      std::cout << " = " << static_cast<int>(100 * reporter.roll_rate_ / reporter.best_rate_)
                << "% of the raw durable append rate in this run";
    }
    std::cout << "\n";
  }
  std::error_code ec;
  for (auto& [people, fixture] : fundledger::RollFixtures()) fixture->ledger.reset();
  fundledger::RollFixtures().clear();
  std::filesystem::remove_all(fundledger::RunDir(), ec);
  return 0;
}
