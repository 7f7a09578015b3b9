// The benchmark harness: every scenario of benchmarks/README.md, side by side with its
// baselines in one run on one machine. Each figure is the median of >= 5 runs with min and
// max; each ratio is computed from medians of the same run. Writes <out>.json and <out>.md.
//
//   bench_harness --out benchmarks/results/2026-11-22-host --pg "host=127.0.0.1 port=5433 ..."
//                 --cli build/release/api/fundledger --load build/release/benchmarks/http_load
//                 [--smoke]
//                 [--rolls 100000,1000000] [--logs 1000000,10000000]   (0 skips that part)
#include <fmt/core.h>
#include <libpq-fe.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <thread>

#include "api/city_builder.h"
#include "benchmarks/roll_city.h"
#include "ledger/ledger.h"
#include "projections/projections.h"
#include "replay/chain_verifier.h"
#include "replay/rebuild.h"

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace fundledger;

namespace {

// Scenario 2's single disbursements pay B0..B(kHttpPeople-1) of the roll city, added to the
// 1M-entry log; each load run pays its own kHttpMonthsPerRun months (room for 60,000 payments,
// ten times what 64 connections make in a run here).
constexpr size_t kHttpPeople = 5000;
constexpr int kHttpMonthsPerRun = 12;

struct Figure {
  std::string scenario, name, unit;
  std::vector<double> runs;
  double median() const {
    std::vector<double> v = runs;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double min() const { return runs.empty() ? 0 : *std::min_element(runs.begin(), runs.end()); }
  double max() const { return runs.empty() ? 0 : *std::max_element(runs.begin(), runs.end()); }
};

struct Ratio {
  std::string name;
  double value;
  std::string target;
};

struct Results {
  std::deque<Figure> figures;  // Add() hands out references: they must stay valid
  std::vector<Ratio> ratios;
  std::vector<std::pair<std::string, std::string>> facts;
  Figure& Add(std::string scenario, std::string name, std::string unit) {
    figures.push_back({std::move(scenario), std::move(name), std::move(unit), {}});
    return figures.back();
  }
  const Figure* Find(const std::string& name) const {
    for (const Figure& f : figures) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
};

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The harness's own directory under the system's temporary one: every store it makes lives
// there, with what a ledger keeps beside its directory (DIR.keys), and main removes it.
fs::path RunDir() {
  return fs::temp_directory_path() / ("fundledger_harness_" + std::to_string(::getpid()));
}

// Removes a directory the harness made. RocksDB may delete an old info log inside it while
// the walk runs (a file gone before it is removed is not an error).
void RemoveDir(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!ec) return;
    if (attempt == 2) throw fs::filesystem_error("remove " + dir, ec);
  }
}

std::string TempDir(const std::string& name) {
  fs::create_directories(RunDir());
  std::string d = (RunDir() / name).string();
  RemoveDir(d);
  return d;
}

// Removes RunDir when main returns.
struct RunDirRemover {
  ~RunDirRemover() {
    std::error_code ec;
    fs::remove_all(RunDir(), ec);
  }
};

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "harness: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

// The machine's busy and total CPU time so far, in clock ticks of all cores (/proc/stat).
std::pair<uint64_t, uint64_t> MachineCpuTicks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const uint64_t busy = user + nice + system + irq + softirq + steal;
  return {busy, busy + idle + iowait};
}

// Writes the machine's dirty page cache out and waits for it (sync(2)). The kernel writes a
// dirty page 30 s after it was made (vm.dirty_expire_centisecs), so what one figure's run (or
// the set-up before it: a city, a 1M-entry log) wrote would otherwise be written out during a
// later run, on the same cores and disk. Each side's measured run starts with none waiting.
void FlushDirtyPages() { ::sync(); }

// The machine's page cache waiting to be written (Dirty + Writeback in /proc/meminfo), MiB.
double DirtyMiB() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0, total = 0;
  std::string unit;
  while (in >> key >> kib) {
    if (key == "Dirty:" || key == "Writeback:") total += kib;
    std::getline(in, unit);  // " kB", or nothing for the page counts
  }
  return static_cast<double>(total) / 1024.0;
}

// Waits until the machine is idle (its dirty pages written out first): under kQuietBusyShare of its
// CPU busy over one kQuietSample, for at most kQuietWaitMax. The PostgreSQL peer's checkpoint and
// autovacuum after scenario 1's rolls (and the ledger's own compactions) otherwise run during the
// next figures on the same cores. The seconds waited, or -1 if the machine never went quiet.
constexpr double kQuietBusyShare = 0.05;  // of all cores: 0.1 of a core on two
constexpr auto kQuietSample = std::chrono::milliseconds(500);
constexpr auto kQuietWaitMax = std::chrono::seconds(60);
double WaitForQuietMachine() {
  const auto start = Clock::now();
  FlushDirtyPages();
  while (Clock::now() - start < kQuietWaitMax) {
    const auto [busy0, total0] = MachineCpuTicks();
    std::this_thread::sleep_for(kQuietSample);
    const auto [busy1, total1] = MachineCpuTicks();
    if (total1 > total0 && static_cast<double>(busy1 - busy0) <
                               kQuietBusyShare * static_cast<double>(total1 - total0)) {
      return Seconds(start);
    }
  }
  return -1;
}

void ResetPeakMemory() { std::ofstream("/proc/self/clear_refs") << "5"; }
double PeakMemoryMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// ------------------------------------------------------------------ scenario 1: roll ingest

struct City : bench::RollCity {
  int32_t next_month_index = MonthIndex(202601);
  uint64_t lines_paid = 0;           // roll lines prepared and approved so far
  std::optional<CityBuilder> rolls;  // pays them
};

std::unique_ptr<City> MakeCity(size_t people) {
  auto c = std::make_unique<City>();
  bench::BuildRollCity(*c, TempDir("city"), people);
  c->rolls.emplace(*c->ledger, CityBuilder::Options{.key_prefix = "ingest-",
                                                    .maker = {"clerk", fb::Role::maker},
                                                    .checker = {"checker", fb::Role::checker}});
  return c;
}

// Times one month's roll of `lines_total` lines (people B0.. in order) cut into batches of
// `batch`, as a bureau submits a roll file in parts: write(lines in the batch, the month, the
// batch's first person) per batch. Each call pays the next month (month_index counts on), so
// every person is paid once a month. Lines per second.
template <typename Write>
double TimedRoll(size_t lines_total, size_t batch, int32_t& month_index, Write&& write) {
  const int32_t period = MonthFromIndex(month_index++);
  auto start = Clock::now();
  for (size_t done = 0; done < lines_total;) {
    size_t n = std::min(batch, lines_total - done);
    write(n, period, done);
    done += n;
  }
  return static_cast<double>(lines_total) / Seconds(start);
}

// fundledger end to end: prepare + approve per batch of `batch` lines, fsync per commit.
double IngestFundledger(City& c, size_t lines_total, size_t batch) {
  return TimedRoll(lines_total, batch, c.next_month_index,
                   [&](size_t n, int32_t period, size_t first) {
                     std::string id = "R" + std::to_string(period) + "-" + std::to_string(first);
                     Check(c.rolls->PayRoll({.batch = id, .fund = "F", .period = period},
                                            bench::RollLines(n, period, first)),
                           "roll");
                     c.lines_paid += n;
                   });
}

// Raw RocksDB: the same payload bytes, one synced WriteBatch per batch, nothing else.
double IngestRocksDb(const std::string& dir, size_t lines_total, size_t batch,
                     int32_t month_index) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  Check(rocksdb::DB::Open(options, dir, &raw).ok() ? Status::Ok() : IoError("open"),
        "rocksdb open");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  uint64_t key = 0;
  return TimedRoll(lines_total, batch, month_index, [&](size_t n, int32_t period, size_t first) {
    rocksdb::WriteBatch wb;
    for (auto& chunk : PackBatch("R" + std::to_string(period) + "-" + std::to_string(first), "F",
                                 "general", period, "roll", bench::RollLines(n, period, first))) {
      Bytes payload = EncodeEvent(chunk);
      std::string k = EntryKey(key++);
      wb.Put(k, rocksdb::Slice(reinterpret_cast<const char*>(payload.data()), payload.size()));
    }
    wb.Put(EntryKey(key++), "approved");
    if (!db->Write(wo, &wb).ok()) std::exit(1);
  });
}

// PostgreSQL, two ways. Both keep an entries table with the same SHA-256 hash chain (a row per
// line, its leaf hash over the line's bytes, chained to the row before), commit with
// synchronous_commit on, and COPY a batch's rows.
//   IngestPostgres (one transaction): the lines and the balances they move, nothing reserved,
//     no approval: the cheapest ledger-shaped write, and the baseline of earlier runs.
//   IngestPostgresTwoStep (prepare + approve), a roll as fundledger does it: the prepare
//     transaction chains the lines, records the batch as prepared and each line as a pending
//     payment whose key (period, person, program) refuses a second payment of the same slot,
//     and reserves the batch's total on the fund; the approve transaction moves the batch from
//     prepared to approved (so that it is approved once), chains an approval row, posts every
//     line of the batch to its person's balance and moves the fund's reservation to posted.
struct Pg {
  PGconn* conn = nullptr;
  Hash prev{};
  uint64_t next = 0;
  // Runs one statement; the rows it changed, or -1 on an error (printed).
  int64_t Rows(const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
      fmt::print(stderr, "harness: postgres: {}: {}", sql.substr(0, 80), PQerrorMessage(conn));
    const char* changed = PQcmdTuples(r);
    int64_t rows = !ok ? -1 : (*changed != 0 ? std::stoll(changed) : 0);
    PQclear(r);
    return rows;
  }
  bool Exec(const std::string& sql) { return Rows(sql) >= 0; }
  void Must(const std::string& sql) {
    if (!Exec(sql)) std::exit(1);
  }
  // COPY `rows` (tab-separated, one a line) into `target` inside the open transaction.
  void Copy(const std::string& target, const std::string& rows) {
    PGresult* r = PQexec(conn, ("COPY " + target + " FROM STDIN").c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN) std::exit(1);
    PQclear(r);
    if (PQputCopyData(conn, rows.data(), static_cast<int>(rows.size())) != 1 ||
        PQputCopyEnd(conn, nullptr) != 1)
      std::exit(1);
    r = PQgetResult(conn);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      fmt::print(stderr, "harness: copy into {}: {}", target, PQerrorMessage(conn));
      std::exit(1);
    }
    PQclear(r);
    while ((r = PQgetResult(conn)) != nullptr) PQclear(r);
  }
  // One chained entries row for `body`, in COPY's text form.
  std::string ChainedRow(const std::string& body) {
    Hash leaf = HashLeaf(AsBytes(body));
    std::string row = std::to_string(next++) + "\t\\\\x" + HashHex(prev) + "\t\\\\x" +
                      HashHex(leaf) + "\t" + body + "\n";
    prev = leaf;
    return row;
  }
  void CreateTables() {
    Must("DROP TABLE IF EXISTS entries, balances, batches, pending");
    Must(
        "CREATE TABLE entries (idx bigint PRIMARY KEY, prev_hash bytea NOT NULL, leaf_hash bytea "
        "NOT NULL, body text NOT NULL)");
    Must(
        "CREATE TABLE balances (account text PRIMARY KEY, posted bigint NOT NULL, reserved bigint "
        "NOT NULL DEFAULT 0)");
    Must(
        "CREATE TABLE pending (period int NOT NULL, beneficiary text NOT NULL, program text NOT "
        "NULL, batch text NOT NULL, amount bigint NOT NULL, PRIMARY KEY (period, beneficiary, "
        "program))");
    Must("CREATE INDEX pending_batch ON pending (batch)");
    Must(
        "CREATE TABLE batches (id text PRIMARY KEY, fund text NOT NULL, total bigint NOT NULL, "
        "status text NOT NULL)");
  }
};

std::string LineBody(const RollLine& l) {
  return l.beneficiary + "," + l.program + "," + std::to_string(l.period) + "," +
         std::to_string(l.amount_fen);
}

double IngestPostgres(Pg& pg, size_t lines_total, size_t batch, int32_t month_index) {
  return TimedRoll(lines_total, batch, month_index, [&](size_t n, int32_t period, size_t first) {
    pg.Must("BEGIN");
    std::string rows;
    std::map<std::string, int64_t> deltas;
    for (const RollLine& l : bench::RollLines(n, period, first)) {
      rows += pg.ChainedRow(LineBody(l));
      deltas["ben/" + l.beneficiary] += l.amount_fen;
      deltas["fund/F/general"] -= l.amount_fen;
    }
    pg.Copy("entries (idx, prev_hash, leaf_hash, body)", rows);
    std::string upsert = "INSERT INTO balances (account, posted) VALUES ";
    bool first_value = true;
    for (const auto& [account, delta] : deltas) {
      upsert += (first_value ? "" : ",") + fmt::format("('{}',{})", account, delta);
      first_value = false;
    }
    upsert += " ON CONFLICT (account) DO UPDATE SET posted = balances.posted + EXCLUDED.posted";
    pg.Must(upsert);
    pg.Must("COMMIT");
  });
}

double IngestPostgresTwoStep(Pg& pg, size_t lines_total, size_t batch, int32_t month_index) {
  return TimedRoll(lines_total, batch, month_index, [&](size_t n, int32_t period, size_t first) {
    // The month is a label shared with the other runs: the batch id and period keep the pending
    // slots of this run apart from every earlier one.
    const std::string id = fmt::format("P{}-{}-{}", pg.next, period, first);
    const int32_t slot_period = static_cast<int32_t>(pg.next % 2'000'000'000);
    pg.Must("BEGIN");
    std::string entries, pending;
    int64_t total = 0;
    for (const RollLine& l : bench::RollLines(n, period, first)) {
      entries += pg.ChainedRow(LineBody(l));
      pending += fmt::format("{}\t{}\t{}\t{}\t{}\n", slot_period, l.beneficiary, l.program, id,
                             l.amount_fen);
      total += l.amount_fen;
    }
    pg.Copy("entries (idx, prev_hash, leaf_hash, body)", entries);
    pg.Copy("pending (period, beneficiary, program, batch, amount)", pending);
    pg.Must(
        fmt::format("INSERT INTO batches VALUES ('{}', 'F/general', {}, 'prepared')", id, total));
    pg.Must(fmt::format(
        "INSERT INTO balances (account, posted, reserved) VALUES ('fund/F/general', 0, {}) ON "
        "CONFLICT (account) DO UPDATE SET reserved = balances.reserved + EXCLUDED.reserved",
        total));
    pg.Must("COMMIT");

    pg.Must("BEGIN");
    if (pg.Rows(fmt::format(
            "UPDATE batches SET status = 'approved' WHERE id = '{}' AND status = 'prepared'",
            id)) != 1)
      std::exit(1);
    pg.Copy("entries (idx, prev_hash, leaf_hash, body)", pg.ChainedRow("approve," + id));
    pg.Must(
        fmt::format("INSERT INTO balances (account, posted) SELECT 'ben/' || beneficiary, "
                    "sum(amount) FROM pending WHERE batch = '{}' GROUP BY beneficiary ON "
                    "CONFLICT (account) DO UPDATE SET posted = balances.posted + EXCLUDED.posted",
                    id));
    pg.Must(fmt::format(
        "UPDATE balances SET reserved = reserved - {0}, posted = posted - {0} WHERE account = "
        "'fund/F/general'",
        total));
    pg.Must("COMMIT");
  });
}

// ------------------------------------------------------------------ logs of many entries

// A ledger of `entries` appropriations (domain and projections included) in `dir`, built fast.
std::unique_ptr<City> MakeLog(size_t entries, std::string dir) {
  auto c = std::make_unique<City>();
  c->dir = std::move(dir);
  LedgerOptions options = WithProjections(c->projections, {});
  options.log.sync = false;  // building the fixture, not measuring it
  c->ledger = std::move(Ledger::Create(c->dir, "bench.local", options)).value();
  Actor admin{"admin", fb::Role::admin};
  std::vector<DomainEvent> funds;
  for (int i = 0; i < 100; ++i) funds.emplace_back(FundOpening({.id = "F" + std::to_string(i)}));
  Check(c->ledger->Submit(admin, "funds", std::move(funds)).status(), "funds");
  size_t made = c->ledger->log().size();
  while (made < entries) {
    std::vector<DomainEvent> batch;
    for (size_t i = 0; i < 8192 && made + i < entries; ++i) {
      batch.emplace_back(Appropriation("F" + std::to_string((made + i) % 100), "general",
                                       100 + static_cast<int64_t>((made + i) % 1000), "treasury",
                                       "appropriation " + std::to_string(made + i) +
                                           " of the budget line for social assistance"));
    }
    made += batch.size();
    Check(c->ledger->Submit(admin, "", std::move(batch)).status(), "appropriations");
  }
  return c;
}

std::vector<double> Percentiles(std::vector<double> v, std::initializer_list<double> ps) {
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  for (double p : ps)
    out.push_back(
        v.empty()
            ? 0
            : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]);
  return out;
}

// Runs `cmd` and returns its stdout.
std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

double Field(const std::string& line, const std::string& key) {
  size_t at = line.find(key + "=");
  return at == std::string::npos ? 0 : std::stod(line.substr(at + key.size() + 1));
}

// Runs http_load against the server `server_pid`; a run with any failed request, or none at
// all, stops the server and the harness (a rate that counts refusals is not a rate).
std::string RunLoad(const std::string& cmd, const std::string& server_pid) {
  std::string line = Run(cmd);
  if (line.find("errors=0") == std::string::npos || Field(line, "requests") == 0) {
    fmt::print(stderr, "harness: load run failed: {}\n{}\n", cmd, line);
    Run("kill -TERM " + server_pid);
    std::exit(1);
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  RunDirRemover remove_run_dir;
  CLI::App app{"fundledger benchmark harness"};
  std::string out, pg_conninfo, cli, load;
  bool smoke = false;
  int runs = 5;
  app.add_option("--out", out, "results path without extension")->required();
  app.add_option("--pg", pg_conninfo,
                 "libpq connection string of a private PostgreSQL (scenario 1's baselines)");
  bool baselines = true;
  app.add_option("--baselines", baselines,
                 "scenario 1's raw RocksDB and PostgreSQL runs (false: fundledger's alone, for "
                 "profiling the roll; no --pg needed)");
  app.add_option("--cli", cli, "the fundledger binary")->required();
  app.add_option("--load", load, "the http_load binary")->required();
  app.add_option("--runs", runs, "runs per figure (>= 5)")->check(CLI::Range(5, 100));
  app.add_flag("--smoke", smoke, "tiny sizes: the harness works, the numbers mean little");
  std::string make_log;
  app.add_option("--make-log", make_log,
                 "only build the first --logs size into this new directory and stop (a fixture "
                 "for timing `fundledger verify` and `replay` of two builds against each other)");
  std::vector<size_t> batches_opt;
  app.add_option("--batches", batches_opt, "batch sizes of scenario 1 (default 1,64,1024,8192)")
      ->delimiter(',');
  std::vector<size_t> rolls_opt, logs_opt;
  app.add_option("--rolls", rolls_opt, "roll sizes in lines for scenario 1 (0: skip it)")
      ->delimiter(',');
  app.add_option("--logs", logs_opt, "log sizes in entries for scenarios 2-6 (0: skip them)")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  // A size of 0 given alone skips that part: profiling one scenario need not run the others.
  auto sizes = [](std::vector<size_t> given, std::vector<size_t> dflt) {
    if (given.empty()) return dflt;
    given.erase(std::remove(given.begin(), given.end(), 0), given.end());
    return given;
  };

  if (!make_log.empty()) {
    std::unique_ptr<City> log = MakeLog(sizes(logs_opt, {1'000'000}).at(0), make_log);
    Check(log->ledger->Close(), "close");
    return 0;
  }

  Results res;
  utsname u{};
  ::uname(&u);
  res.facts = {{"host", u.nodename},
               {"kernel", std::string(u.sysname) + " " + u.release},
               {"cores", std::to_string(std::thread::hardware_concurrency())},
               {"mode", smoke ? "smoke" : "full"},
               {"runs per figure", std::to_string(runs)}};
  {
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
      if (line.rfind("model name", 0) == 0) {
        res.facts.emplace_back("cpu", line.substr(line.find(':') + 2));
        break;
      }
    }
    std::ifstream mem("/proc/meminfo");
    std::getline(mem, line);
    res.facts.emplace_back("memory", line.substr(line.find(':') + 1));
  }

  // 1. Monthly roll ingest.
  const std::vector<size_t> roll_sizes =
      sizes(rolls_opt, smoke ? std::vector<size_t>{2000} : std::vector<size_t>{100'000, 1'000'000});
  const std::vector<size_t> batch_sizes = !batches_opt.empty() ? batches_opt
                                          : smoke              ? std::vector<size_t>{1, 64, 2000}
                                                  : std::vector<size_t>{1, 64, 1024, 8192};
  Pg pg;
  if (!roll_sizes.empty() && baselines) {
    if (pg_conninfo.empty()) {
      fmt::print(stderr, "harness: scenario 1's baselines need --pg\n");
      return 1;
    }
    pg.conn = PQconnectdb(pg_conninfo.c_str());
    if (PQstatus(pg.conn) != CONNECTION_OK) {
      fmt::print(stderr, "harness: cannot connect to PostgreSQL: {}", PQerrorMessage(pg.conn));
      return 1;
    }
    pg.Must("SET synchronous_commit = on");
    pg.CreateTables();
  }
  double peak_mib = 0;
  for (size_t lines : roll_sizes) {
    fmt::print(stderr, "harness: roll ingest, {} lines\n", lines);
    std::unique_ptr<City> city = MakeCity(std::min<size_t>(lines, 1'000'000));
    for (size_t batch : batch_sizes) {
      // Small batches are bounded in count: the rate is what is measured.
      size_t per_run = std::min(lines, batch * (smoke ? 20 : 400));
      std::string tag = fmt::format("roll {} lines, batch {}", lines, batch);
      Figure& fl = res.Add("1 roll ingest", "fundledger " + tag, "lines/s");
      Figure* rdb =
          baselines ? &res.Add("1 roll ingest", "raw RocksDB " + tag, "lines/s") : nullptr;
      Figure* pgf = baselines ? &res.Add("1 roll ingest", "PostgreSQL " + tag, "lines/s") : nullptr;
      Figure* pg2 =
          baselines ? &res.Add("1 roll ingest", "PostgreSQL prepare + approve " + tag, "lines/s")
                    : nullptr;
      for (int r = 0; r < runs; ++r) {
        FlushDirtyPages();
        ResetPeakMemory();
        fl.runs.push_back(IngestFundledger(*city, per_run, batch));
        peak_mib = std::max(peak_mib, PeakMemoryMiB());
        if (!baselines) continue;
        std::string rd = TempDir("rocksdb");
        FlushDirtyPages();
        rdb->runs.push_back(
            IngestRocksDb(rd, per_run, batch, MonthIndex(202601) + r));  // the month: a label only
        RemoveDir(rd);
        FlushDirtyPages();
        pgf->runs.push_back(IngestPostgres(pg, per_run, batch, MonthIndex(202601) + r));
        FlushDirtyPages();
        pg2->runs.push_back(IngestPostgresTwoStep(pg, per_run, batch, MonthIndex(202601) + r));
      }
      if (!baselines) continue;
      res.ratios.push_back(
          {"fundledger / raw RocksDB, " + tag, fl.median() / rdb->median(), ">= 0.5"});
      res.ratios.push_back(
          {"fundledger / PostgreSQL one transaction, " + tag, fl.median() / pgf->median(), ""});
      res.ratios.push_back({"fundledger / PostgreSQL prepare + approve, " + tag,
                            fl.median() / pg2->median(),
                            batch == 1 ? ">= 1" : (batch >= 8192 ? ">= 10" : "")});
    }
    if (lines == roll_sizes.front()) {
      // 7. Store size per million entries.
      uint64_t bytes = DirBytes(city->dir + "/store");
      Figure& size = res.Add("7 footprint", "store bytes per million entries (roll ledger)", "MiB");
      for (int r = 0; r < runs; ++r)
        size.runs.push_back(static_cast<double>(bytes) / (1 << 20) * 1e6 /
                            static_cast<double>(city->ledger->log().size()));
      // A roll entry holds up to 2,000 lines: per line paid is the figure a bureau plans with.
      Figure& per_line =
          res.Add("7 footprint", "store bytes per million roll lines paid (roll ledger)", "MiB");
      for (int r = 0; r < runs; ++r)
        per_line.runs.push_back(static_cast<double>(bytes) / (1 << 20) * 1e6 /
                                static_cast<double>(std::max<uint64_t>(city->lines_paid, 1)));
    }
    // The whole roll in one batch, as the target states it.
    Figure& whole = res.Add("1 roll ingest",
                            fmt::format("fundledger whole roll of {} lines", lines), "seconds");
    for (int r = 0; r < runs && (smoke || lines <= 1'000'000); ++r) {
      FlushDirtyPages();
      auto start = Clock::now();
      IngestFundledger(*city, lines, lines);
      whole.runs.push_back(Seconds(start));
    }
    Check(city->ledger->Close(), "close");
    RemoveDir(city->dir);
  }
  if (!roll_sizes.empty()) {
    Figure& peak = res.Add("7 footprint", "peak memory of the ledger during roll ingest", "MiB");
    for (int r = 0; r < runs; ++r) peak.runs.push_back(peak_mib);
  }
  if (pg.conn != nullptr) {
    // The peer's dirty pages written now, not by its checkpointer during the next figures.
    pg.Exec("CHECKPOINT");
    PQfinish(pg.conn);
  }

  // 3-6 over logs of many entries.
  const std::vector<size_t> log_sizes = sizes(
      logs_opt, smoke ? std::vector<size_t>{20'000} : std::vector<size_t>{1'000'000, 10'000'000});
  for (size_t n : log_sizes) {
    fmt::print(stderr, "harness: a log of {} entries\n", n);
    std::unique_ptr<City> log = MakeLog(n, TempDir("log"));
    // Verification and rebuild read the store at rest, as `fundledger verify` and `replay` do:
    // closed by the writer, opened read-only.
    Check(log->ledger->Close(), "close");
    log->ledger.reset();
    LogOptions read_only;
    read_only.read_only = true;
    read_only.check_tail_on_open = false;
    Result<std::unique_ptr<Log>> opened = Log::Open(log->dir, read_only);
    Check(opened.status(), "open read-only");
    std::unique_ptr<Log> reader = std::move(opened).value();
    std::string tag = fmt::format("{} entries", n);
    if (!smoke) {  // a smoke run's numbers mean little: no wait of up to a minute for them
      const double dirty_mib = DirtyMiB();
      const double settled = WaitForQuietMachine();
      res.facts.push_back(
          {"machine settled before the figures of " + tag,
           fmt::format("{} ({:.0f} MiB of dirty pages written out first)",
                       settled < 0 ? "not within 60 s" : fmt::format("{:.1f} s", settled),
                       dirty_mib)});
    }
    // 3. Full-chain verification vs raw SHA-256 over the same bytes.
    Figure& verify = res.Add("3 verification", "verify chain, " + tag, "MB/s");
    Figure& sha = res.Add("3 verification", "raw SHA-256 of the same entries, " + tag, "MB/s");
    Figure& scan =
        res.Add("3 verification",
                "read every entry from the store and SHA-256 it, one thread, " + tag, "MB/s");
    std::vector<Bytes> sample;
    uint64_t bytes_total = 0;
    Check(reader->ScanEntries(0, n,
                              [&](uint64_t, ByteView b) {
                                bytes_total += b.size();
                                if (sample.size() < 65536) sample.emplace_back(b.begin(), b.end());
                                return Status::Ok();
                              }),
          "scan");
    for (int r = 0; r < runs; ++r) {
      auto start = Clock::now();
      VerifyReport v = VerifyChain(*reader, {});
      double s = Seconds(start);
      if (!v.valid) std::exit(1);
      verify.runs.push_back(static_cast<double>(bytes_total) / 1e6 / s);
      start = Clock::now();
      Hash acc{};
      for (uint64_t i = 0; i < n; ++i) {
        Hash h = HashLeaf(sample[i % sample.size()]);
        acc[0] ^= h[0];
      }
      sha.runs.push_back(static_cast<double>(bytes_total) / 1e6 / Seconds(start));
      // What any verifier reading this store pays before checking anything: read and hash.
      start = Clock::now();
      Check(reader->ScanEntries(0, n,
                                [&](uint64_t, ByteView b) {
                                  acc[1] ^= HashLeaf(b)[0];
                                  return Status::Ok();
                                }),
            "scan");
      scan.runs.push_back(static_cast<double>(bytes_total) / 1e6 / Seconds(start));
    }
    res.ratios.push_back(
        {"verification / raw SHA-256, " + tag, verify.median() / sha.median(), ">= 0.7"});
    // 4. Projection rebuild.
    Figure& rebuild = res.Add("4 rebuild", "rebuild projections by replay, " + tag, "entries/s");
    for (int r = 0; r < runs; ++r) {
      auto start = Clock::now();
      RebuildReport rr = RebuildProjections(*reader, {});
      if (!rr.verify.valid) std::exit(1);
      rebuild.runs.push_back(static_cast<double>(n) / Seconds(start));
    }
    reader.reset();
    // Proofs and as-of queries as the server answers them: the ledger open for writing.
    Projections served_projections;
    Result<std::unique_ptr<Ledger>> reopened =
        Ledger::Open(log->dir, WithProjections(served_projections, {}));
    Check(reopened.status(), "reopen");
    std::unique_ptr<Ledger> served = std::move(reopened).value();
    // 5. Proofs in-process.
    std::mt19937_64 rng(7);
    const uint64_t size = served->log().size();
    for (const char* kind : {"inclusion", "consistency"}) {
      Figure& p50 =
          res.Add("5 proofs", fmt::format("{} proof p50 in-process, {}", kind, tag), "us");
      Figure& p99 =
          res.Add("5 proofs", fmt::format("{} proof p99 in-process, {}", kind, tag), "us");
      for (int r = 0; r < runs; ++r) {
        std::vector<double> us;
        for (int i = 0; i < (smoke ? 500 : 5000); ++i) {
          auto start = Clock::now();
          if (kind[0] == 'i') {
            Check(served->log().ProveInclusion(rng() % size, size).status(), "inclusion");
          } else {
            Check(served->log().ProveConsistency(1 + rng() % (size - 1), size).status(),
                  "consistency");
          }
          us.push_back(Seconds(start) * 1e6);
        }
        auto pc = Percentiles(us, {0.5, 0.99});
        p50.runs.push_back(pc[0]);
        p99.runs.push_back(pc[1]);
      }
    }
    // 6. As-of balance queries.
    Figure& asof50 = res.Add("6 as-of", "as-of balance p50, " + tag, "us");
    Figure& asof99 = res.Add("6 as-of", "as-of balance p99, " + tag, "us");
    for (int r = 0; r < runs; ++r) {
      std::vector<double> us;
      for (int i = 0; i < (smoke ? 500 : 5000); ++i) {
        std::string account = FundAccount("F" + std::to_string(rng() % 100), "general");
        auto start = Clock::now();
        Check(Projections::BalanceAsOf(served->log(), account, rng() % size).status(), "as-of");
        us.push_back(Seconds(start) * 1e6);
      }
      auto pc = Percentiles(us, {0.5, 0.99});
      asof50.runs.push_back(pc[0]);
      asof99.runs.push_back(pc[1]);
    }
    Figure& footprint = res.Add("7 footprint", "store bytes per million entries, " + tag, "MiB");
    uint64_t store_bytes = DirBytes(log->dir + "/store");
    for (int r = 0; r < runs; ++r)
      footprint.runs.push_back(static_cast<double>(store_bytes) / (1 << 20) * 1e6 /
                               static_cast<double>(size));
    // The people scenario 2 pays, one disbursement at a time.
    if (n == log_sizes.front()) bench::FillRollCity(*served, kHttpPeople);
    Check(served->Close(), "close");

    // 5 over HTTP, and 2: single posts over HTTP from a separate process.
    std::string serve_out = log->dir + ".serve";
    std::string token = Run(cli + " token add --data " + log->dir +
                            " --actor bench.maker --role admin 2>/dev/null");
    token = token.substr(token.rfind(' ') + 1);
    token.erase(token.find_last_not_of("\n") + 1);
    std::string pid =
        Run("sh -c '" + cli + " serve --data " + log->dir +
            " --listen 127.0.0.1:0 --quiet --public-log > " + serve_out + " 2>&1 & echo $!'");
    pid.erase(pid.find_last_not_of(" \n") + 1);
    int port = 0;
    for (int i = 0; i < 600 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ifstream in(serve_out);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      size_t at = text.find("127.0.0.1:");
      if (at != std::string::npos) port = std::stoi(text.substr(at + 10));
    }
    if (port == 0) {
      fmt::print(stderr, "harness: the server did not start\n");
      return 1;
    }
    int secs = 1;
    for (const char* kind : {"inclusion", "consistency"}) {
      Figure& http50 =
          res.Add("5 proofs", fmt::format("{} proof p50 over HTTP, {}", kind, tag), "ms");
      Figure& http99 =
          res.Add("5 proofs", fmt::format("{} proof p99 over HTTP, {}", kind, tag), "ms");
      for (int r = 0; r < runs; ++r) {
        std::string line = RunLoad(fmt::format("{} --port {} --token {} --connections 4 --seconds "
                                               "{} --kind {} --tree-size {} --tag p{}",
                                               load, port, token, secs, kind, size, r),
                                   pid);
        http50.runs.push_back(Field(line, "p50_ms"));
        http99.runs.push_back(Field(line, "p99_ms"));
      }
    }
    if (n == log_sizes.front()) {
      std::string checker = Run(cli + " token add --data " + log->dir +
                                " --actor bench.checker --role checker 2>/dev/null");
      checker = checker.substr(checker.rfind(' ') + 1);
      checker.erase(checker.find_last_not_of("\n") + 1);
      int window = 0;  // each load run pays its own months: kHttpMonthsPerRun from 2031-01 on
      for (int conns : smoke ? std::vector<int>{1, 8} : std::vector<int>{1, 8, 64}) {
        Figure& rps =
            res.Add("2 HTTP posts", fmt::format("single disbursements, {} connections", conns),
                    "disbursements/s");
        Figure& p50 = res.Add("2 HTTP posts",
                              fmt::format("single disbursements p50, {} connections", conns), "ms");
        Figure& p99 = res.Add("2 HTTP posts",
                              fmt::format("single disbursements p99, {} connections", conns), "ms");
        Figure& p999 = res.Add(
            "2 HTTP posts", fmt::format("single disbursements p999, {} connections", conns), "ms");
        for (int r = 0; r < runs; ++r, ++window) {
          const int month = 2031 * 12 + window * kHttpMonthsPerRun;
          std::string line =
              RunLoad(fmt::format("{} --port {} --token {} --checker-token {} --connections {} "
                                  "--seconds {} --kind disbursement --fund F "
                                  "--people {} --first-month {:04d}-{:02d} --tag d{}-{}",
                                  load, port, token, checker, conns, secs, kHttpPeople, month / 12,
                                  month % 12 + 1, conns, r),
                      pid);
          rps.runs.push_back(Field(line, "req_per_s"));
          p50.runs.push_back(Field(line, "p50_ms"));
          p99.runs.push_back(Field(line, "p99_ms"));
          p999.runs.push_back(Field(line, "p999_ms"));
        }
      }
      for (int conns : smoke ? std::vector<int>{1, 8} : std::vector<int>{1, 8, 64}) {
        Figure& rps =
            res.Add("2 HTTP posts", fmt::format("single posts, {} connections", conns), "req/s");
        Figure& p50 =
            res.Add("2 HTTP posts", fmt::format("single posts p50, {} connections", conns), "ms");
        Figure& p99 =
            res.Add("2 HTTP posts", fmt::format("single posts p99, {} connections", conns), "ms");
        Figure& p999 =
            res.Add("2 HTTP posts", fmt::format("single posts p999, {} connections", conns), "ms");
        for (int r = 0; r < runs; ++r) {
          std::string line =
              RunLoad(fmt::format("{} --port {} --token {} --connections {} --seconds {} --kind "
                                  "appropriation --fund F1 --tag h{}-{}",
                                  load, port, token, conns, secs, conns, r),
                      pid);
          rps.runs.push_back(Field(line, "req_per_s"));
          p50.runs.push_back(Field(line, "p50_ms"));
          p99.runs.push_back(Field(line, "p99_ms"));
          p999.runs.push_back(Field(line, "p999_ms"));
        }
      }
    }
    Run("kill -TERM " + pid + "; sleep 1");
    RemoveDir(log->dir);
    fs::remove(serve_out);
  }

  // Results.
  json::object doc;
  json::object facts;
  for (const auto& [k, v] : res.facts) facts[k] = v;
  doc["machine"] = std::move(facts);
  json::array figures;
  for (const Figure& f : res.figures) {
    json::array runs_json;
    for (double v : f.runs) runs_json.emplace_back(v);
    figures.push_back(json::object{{"scenario", f.scenario},
                                   {"name", f.name},
                                   {"unit", f.unit},
                                   {"median", f.median()},
                                   {"min", f.min()},
                                   {"max", f.max()},
                                   {"runs", std::move(runs_json)}});
  }
  doc["figures"] = std::move(figures);
  json::array ratios;
  for (const Ratio& r : res.ratios)
    ratios.push_back(json::object{{"name", r.name}, {"value", r.value}, {"target", r.target}});
  doc["ratios"] = std::move(ratios);
  std::ofstream(out + ".json") << json::serialize(doc) << "\n";
  std::ofstream md(out + ".md");
  md << "# fundledger benchmarks (" << (smoke ? "smoke" : "full") << ")\n\n";
  for (const auto& [k, v] : res.facts) md << "- " << k << ": " << v << "\n";
  md << "\n| scenario | figure | median | min | max | unit |\n|---|---|---|---|---|---|\n";
  for (const Figure& f : res.figures) {
    md << fmt::format("| {} | {} | {:.6g} | {:.6g} | {:.6g} | {} |\n", f.scenario, f.name,
                      f.median(), f.min(), f.max(), f.unit);
  }
  md << "\n| ratio (medians of this run) | value | target |\n|---|---|---|\n";
  for (const Ratio& r : res.ratios)
    md << fmt::format("| {} | {:.3g} | {} |\n", r.name, r.value, r.target);
  fmt::print(
      "{}",
      std::string((std::istreambuf_iterator<char>(*std::make_unique<std::ifstream>(out + ".md"))),
                  {}));
  return 0;
}
