#include "projections/projections.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <optional>
#include <tuple>

#include "crypto/encoding.h"
#include "ledger/binary_codec.h"

namespace fundledger {
namespace {

std::string Pack(std::initializer_list<int64_t> values) {
  std::string out(values.size() * 8, '\0');
  size_t i = 0;
  for (int64_t v : values)
    PutBigEndian64(static_cast<uint64_t>(v), reinterpret_cast<uint8_t*>(out.data() + 8 * i++));
  return out;
}

int64_t Field(std::string_view value, size_t i) {
  return static_cast<int64_t>(
      GetBigEndian64(reinterpret_cast<const uint8_t*>(value.data() + 8 * i)));
}

std::string Encode(const Balance& b) { return Pack({b.posted_fen, b.pending_fen}); }
std::string Encode(const RegionTotal& r) { return Pack({r.amount_fen, r.lines, r.beneficiaries}); }

std::string HistoryKey(const std::string& account, uint64_t index) {
  std::string key = "h/" + account + "/";
  key.resize(key.size() + 8);
  PutBigEndian64(index, reinterpret_cast<uint8_t*>(key.data() + key.size() - 8));
  return key;
}

std::string DigestRowValue(const RowDigest& digest) {
  Hash d = digest.Bytes32();
  std::string value(AsChars(d));
  value += Pack({static_cast<int64_t>(digest.rows), static_cast<int64_t>(kProjectionsLayout)});
  assert(value.size() == kProjectionsDigestRowBytes);
  return value;
}

// Refuses a digest row of another layout (or of none): rows are never converted, but rebuilt.
Status CheckLayout(std::string_view row) {
  const std::string reads = "; this build reads projections layout " +
                            std::to_string(kProjectionsLayout) + " (a digest row of " +
                            std::to_string(kProjectionsDigestRowBytes) +
                            " bytes); rebuild them from the log with `fundledger replay --repair`";
  if (row.size() != kProjectionsDigestRowBytes) {
    return Corruption("the stored projections have a digest row of " + std::to_string(row.size()) +
                      " bytes (an earlier build's, which recorded no layout, or a damaged one)" +
                      reads);
  }
  const uint64_t layout = static_cast<uint64_t>(Field(row.substr(kHashBytes), 1));
  if (layout != kProjectionsLayout)
    return Corruption("the stored projections are in layout " + std::to_string(layout) + reads);
  return Status::Ok();
}

}  // namespace

void RowDigest::Add(std::string_view key, std::string_view value, bool subtract) {
  thread_local std::string row;  // key || 0 || value, hashed in one call with a reused context
  row.assign(key);
  row.push_back('\0');
  row.append(value);
  Hash d = Sha256::Digest(AsBytes(row));
  uint64_t x[4];
  for (int i = 0; i < 4; ++i) x[i] = GetBigEndian64(d.data() + 8 * (3 - i));  // little-endian limbs
  unsigned __int128 carry = 0;
  if (!subtract) {
    for (int i = 0; i < 4; ++i) {
      unsigned __int128 s = static_cast<unsigned __int128>(limbs[i]) + x[i] + carry;
      limbs[i] = static_cast<uint64_t>(s);
      carry = s >> 64;
    }
    ++rows;
  } else {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned __int128 sub = static_cast<unsigned __int128>(x[i]) + borrow;
      borrow = static_cast<unsigned __int128>(limbs[i]) < sub ? 1 : 0;
      limbs[i] = static_cast<uint64_t>(static_cast<unsigned __int128>(limbs[i]) - sub);
    }
    --rows;
  }
}

Hash RowDigest::Bytes32() const {
  Hash out;
  for (int i = 0; i < 4; ++i) PutBigEndian64(limbs[3 - i], out.data() + 8 * i);
  return out;
}

void Projections::PutRow(ApplyContext& ctx, const std::string& key, const std::string& old_value,
                         const std::string& value, bool in_place) {
  if (!(replaying_ && in_place)) {
    if (!old_value.empty()) digest_.Add(key, old_value, /*subtract=*/true);
    digest_.Add(key, value, /*subtract=*/false);
  }
  if (ctx.sink != nullptr) ctx.sink->Put(key, value);
}

void Projections::DigestInPlaceRows(bool subtract) {
  for (const auto& [key, r] : regions_) digest_.Add(key, Encode(r), subtract);
}

void Projections::PutDigestRow(ApplyContext& ctx) const {
  if (ctx.sink != nullptr) ctx.sink->Put(kProjectionsDigestKey, DigestRowValue(digest_));
}

void Projections::OnReplayBegin() {
  WriterLock lock(mu_);
  assert(!replaying_);
  DigestInPlaceRows(/*subtract=*/true);  // rows loaded from a snapshot: added back at the end
  replaying_ = true;
}

void Projections::OnReplayEnd(ApplyContext& ctx) {
  WriterLock lock(mu_);
  assert(replaying_);
  replaying_ = false;
  DigestInPlaceRows(/*subtract=*/false);
  PutDigestRow(ctx);
}

void Projections::OnApplied(const AppliedEntry& entry, ApplyContext& ctx) {
  WriterLock lock(mu_);
  if (ctx.undo != nullptr) {
    // Simplest correct undo: remember everything this entry may touch.
    ctx.undo->Push([this, saved = digest_, totals = totals_] {
      WriterLock lock(mu_);
      digest_ = saved;
      totals_ = totals;
    });
  }
  totals_.AtEntry(entry.index);
  ApplyPostings(entry, ctx);
  ApplyPayments(entry, ctx);
  if (!(entry.postings.empty() && entry.payments.empty()) && !replaying_) PutDigestRow(ctx);
}

void Projections::ApplyPostings(const AppliedEntry& entry, ApplyContext& ctx) {
  // Fund accounts this entry moved: one history row each, for as-of queries. The balances of
  // the others (people, external sources) are held in memory only: no query reads their past.
  std::vector<AccountId> touched;
  // Undo steps for the whole entry go in one closure per map (a closure per line was a heap
  // allocation per line); they are undone last change first. 24 bytes a posting, no name.
  struct BalanceWas {
    AccountId account;
    bool existed;
    Balance old;
  };
  std::vector<BalanceWas> balances_were;
  if (ctx.undo != nullptr) balances_were.reserve(entry.postings.size());
  for (const Posting& p : entry.postings) {
    const AccountId account = AccountOf(p);
    bool added = false;
    Balance& b = accounts_.GetOrAdd(account, &added);
    if (ctx.undo != nullptr) balances_were.push_back({account, !added, b});
    totals_.Add(b.posted_fen, p.posted_delta_fen, "the posted balance of", p.account);
    totals_.Add(b.pending_fen, p.pending_delta_fen, "the pending balance of", p.account);
    if (IsFundAccount(p.account))
      touched.push_back(account);  // its history row carries the new balance
  }
  if (ctx.undo != nullptr && !balances_were.empty()) {
    ctx.undo->Push([this, steps = std::move(balances_were)] {
      WriterLock lock(mu_);
      for (auto w = steps.rbegin(); w != steps.rend(); ++w) {
        if (w->existed) {
          accounts_.Restore(w->account, w->old);
        } else {
          accounts_.Erase(w->account);
        }
      }
    });
  }
  std::sort(touched.begin(), touched.end(), [this](AccountId a, AccountId b) FL_REQUIRES(mu_) {
    return accounts_.name(a) < accounts_.name(b);
  });
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (AccountId account : touched) {
    PutRow(ctx, HistoryKey(accounts_.name(account), entry.index), "",
           Encode(*accounts_.Get(account)), /*in_place=*/false);
  }
}

void Projections::DomainIds::Remember(NameId id, uint32_t index) {
  if (id == kNoNameId) return;
  if (id >= index_plus_one_.size()) index_plus_one_.resize(size_t{id} + 1, 0);
  index_plus_one_[id] = index + 1;
}

uint32_t Projections::PersonOf(NameId id, std::string_view name) {
  if (std::optional<uint32_t> at = person_of_id_.Find(id); at && people_[*at].name == name)
    return *at;
  auto it = person_of_name_.find(name);
  if (it == person_of_name_.end()) {
    it = person_of_name_.emplace(std::string(name), static_cast<uint32_t>(people_.size())).first;
    people_.push_back(Person{std::string(name), {}});
  }
  person_of_id_.Remember(id, it->second);
  return it->second;
}

AccountId Projections::AccountOf(const Posting& p) {
  if (std::optional<uint32_t> at = account_of_id_.Find(p.account_id);
      at && accounts_.name(*at) == p.account)
    return *at;
  const AccountId account = accounts_.Intern(p.account);
  account_of_id_.Remember(p.account_id, account);
  return account;
}

NameId Projections::ProgramOf(NameId id, std::string_view name) {
  if (std::optional<uint32_t> at = program_of_id_.Find(id); at && programs_[*at] == name)
    return *at;
  const NameId program = programs_.Intern(name);
  program_of_id_.Remember(id, program);
  return program;
}

void Projections::ApplyPayments(const AppliedEntry& entry, ApplyContext& ctx) {
  // Region totals take the sum of the entry's payments: one row change per region, not per line.
  struct RegionKey {
    NameId program;
    int32_t period;
    std::string_view region;
    bool operator==(const RegionKey&) const = default;
  };
  struct RegionKeyHash {
    size_t operator()(const RegionKey& k) const {
      return std::hash<std::string_view>{}(k.region) ^
             (static_cast<size_t>(k.program) * 0x9e3779b97f4a7c15ULL) ^
             static_cast<size_t>(static_cast<uint32_t>(k.period));
    }
  };
  boost::unordered_flat_map<RegionKey, RegionTotal, RegionKeyHash> region_deltas;
  struct PaidWas {
    uint32_t person;
    PaidRow old;  // amount and lines zero when the row did not exist
    bool existed;
  };
  std::vector<PaidWas> paid_were;
  if (ctx.undo != nullptr) paid_were.reserve(entry.payments.size());
  for (const PaymentEffect& e : entry.payments) {
    const uint32_t person = PersonOf(e.beneficiary_id, e.beneficiary);
    const NameId program = ProgramOf(e.program_id, e.program);
    bool p_existed = false;
    PaidRow& p = PaidRowOf(people_[person].rows, program, e.period, &p_existed);
    const PaidRow p_old = p;
    totals_.Add(p.amount_fen, e.amount_fen, "the total paid to", e.beneficiary);
    p.lines += e.lines_delta;
    if (ctx.undo != nullptr) paid_were.push_back({person, p_old, p_existed});
    RegionTotal& d = region_deltas[RegionKey{program, e.period, e.region}];
    totals_.Add(d.amount_fen, e.amount_fen, "the entry's payments in region", e.region);
    d.lines += e.lines_delta;
    if (p_old.lines <= 0 && p.lines > 0) d.beneficiaries++;
    if (p_old.lines > 0 && p.lines <= 0) d.beneficiaries--;
  }
  if (ctx.undo != nullptr && !paid_were.empty()) {
    // A person added by this entry stays in people_ with no rows: answered as never paid.
    ctx.undo->Push([this, steps = std::move(paid_were)] {
      WriterLock lock(mu_);
      for (auto w = steps.rbegin(); w != steps.rend(); ++w) {
        std::vector<PaidRow>& rows = people_[w->person].rows;
        auto at = PaidRowAt(rows, w->old.Key());
        if (at == rows.end() || at->Key() != w->old.Key()) continue;
        if (w->existed) {
          *at = w->old;
        } else {
          rows.erase(at);
        }
      }
    });
  }
  // Rows are written in (program, period, region) order, as the names sort.
  std::vector<std::pair<std::tuple<std::string_view, int32_t, std::string_view>, RegionTotal>>
      deltas;
  deltas.reserve(region_deltas.size());
  for (const auto& [k, d] : region_deltas)
    deltas.push_back({{programs_[k.program], k.period, k.region}, d});
  std::sort(deltas.begin(), deltas.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [k, d] : deltas) {
    const auto& [program, period, region] = k;
    std::string rkey =
        "r/" + std::string(program) + "/" + std::to_string(period) + "/" + std::string(region);
    auto rit = regions_.find(rkey);
    bool r_existed = rit != regions_.end();
    RegionTotal r_old = r_existed ? rit->second : RegionTotal{};
    RegionTotal& r = r_existed ? rit->second : regions_[rkey];
    totals_.Add(r.amount_fen, d.amount_fen, "the region total", rkey);
    r.lines += d.lines;
    r.beneficiaries += d.beneficiaries;
    PutRow(ctx, rkey, r_existed ? Encode(r_old) : "", Encode(r), /*in_place=*/true);
    if (ctx.undo != nullptr) {
      ctx.undo->Push([this, rkey, r_old, r_existed] {
        WriterLock lock(mu_);
        if (r_existed) {
          regions_[rkey] = r_old;
        } else {
          regions_.erase(rkey);
        }
      });
    }
  }
}

std::string Projections::SaveState() const {
  ReaderLock lock(mu_);
  assert(!replaying_);
  BinaryWriter w;
  for (uint64_t limb : digest_.limbs) w.U64(limb);
  w.U64(digest_.rows);
  w.U64(accounts_.size());
  for (const auto& [k, b] : accounts_.SortedByName()) {
    w.Str(k);
    w.I64(b->posted_fen);
    w.I64(b->pending_fen);
  }
  // Written as "<program>/<period>" keys in key order, as when they were held so.
  std::map<std::string_view, const std::vector<PaidRow>*> paid;
  for (const Person& person : people_) {
    if (!person.rows.empty()) paid.emplace(person.name, &person.rows);
  }
  w.U64(paid.size());
  for (const auto& [ben, rows] : paid) {
    w.Str(ben);
    std::map<std::string, const PaidRow*> keyed;
    for (const PaidRow& row : *rows) keyed.emplace(PaidKey(row), &row);
    w.U64(keyed.size());
    for (const auto& [k, p] : keyed) {
      w.Str(k);
      w.I64(p->amount_fen);
      w.I64(p->lines);
    }
  }
  std::map<std::string, RegionTotal> regions(regions_.begin(), regions_.end());
  w.U64(regions.size());
  for (const auto& [k, r] : regions) {
    w.Str(k);
    w.I64(r.amount_fen);
    w.I64(r.lines);
    w.I64(r.beneficiaries);
  }
  return std::move(w.data());
}

Status Projections::LoadState(std::string_view bytes) {
  BinaryReader r(bytes);
  RowDigest digest;
  for (uint64_t& limb : digest.limbs) limb = r.U64();
  digest.rows = r.U64();
  Accounts accounts;  // a fresh table: the one in use stays as it is until the swap
  for (uint64_t n = r.Count(24); n > 0 && r.ok(); --n) {
    bool added = false;
    Balance& b = accounts.GetOrAdd(accounts.Intern(r.Str()), &added);
    b.posted_fen = r.I64();
    b.pending_fen = r.I64();
  }
  // Programs are interned into a fresh table: the one in use stays as it is until the swap.
  Names programs;
  std::vector<Person> people;
  StringMap<uint32_t> person_of_name;
  bool keys_ok = true;
  for (uint64_t n = r.Count(16); n > 0 && r.ok(); --n) {
    std::string name = r.Str();
    if (!person_of_name.emplace(name, static_cast<uint32_t>(people.size())).second) {
      keys_ok = false;
      break;
    }
    people.push_back(Person{std::move(name), {}});
    std::vector<PaidRow>& rows = people.back().rows;
    for (uint64_t m = r.Count(24); m > 0 && r.ok(); --m) {
      std::string key = r.Str();
      PaidRow row;
      row.amount_fen = r.I64();
      row.lines = r.I64();
      // "<program>/<period>": program ids hold no '/'.
      size_t slash = key.rfind('/');
      auto [end, ec] = std::from_chars(key.data() + slash + 1, key.data() + key.size(), row.period);
      if (slash == std::string::npos || slash == 0 || ec != std::errc() ||
          end != key.data() + key.size()) {
        keys_ok = false;
        break;
      }
      row.program = programs.Intern(std::string_view(key.data(), slash));
      rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end(),
              [](const PaidRow& a, const PaidRow& b) { return a.Key() < b.Key(); });
    if (std::adjacent_find(rows.begin(), rows.end(), [](const PaidRow& a, const PaidRow& b) {
          return a.Key() == b.Key();
        }) != rows.end()) {
      keys_ok = false;
    }
  }
  if (!keys_ok)
    return Corruption(
        "the projections in the snapshot hold a paid total whose key is not <program>/<period>, or "
        "one twice, or a person twice");
  StringMap<RegionTotal> regions;
  for (uint64_t n = r.Count(32); n > 0 && r.ok(); --n) {
    RegionTotal& t = regions[r.Str()];
    t.amount_fen = r.I64();
    t.lines = r.I64();
    t.beneficiaries = r.I64();
  }
  if (!r.ok() || !r.done())
    return Corruption("the projections in the snapshot are truncated or malformed");
  WriterLock lock(mu_);
  digest_ = digest;
  accounts_ = std::move(accounts);
  account_of_id_.Clear();  // the domain's ids are its own: learnt again from the next postings
  programs_ = std::move(programs);  // a deque moves its blocks: the names' views stay valid
  people_ = std::move(people);
  person_of_name_ = std::move(person_of_name);
  person_of_id_.Clear();  // the domain's ids are its own: learnt again from the next effects
  program_of_id_.Clear();
  regions_ = std::move(regions);
  totals_ = CheckedTotals();
  return Status::Ok();
}

Hash Projections::digest(const DomainState&) const {
  ReaderLock lock(mu_);
  assert(!replaying_);
  return digest_.Bytes32();
}

uint64_t Projections::rows(const DomainState&) const {
  ReaderLock lock(mu_);
  assert(!replaying_);
  return digest_.rows;
}

Balance Projections::BalanceOf(const DomainState&, const std::string& account) const {
  ReaderLock lock(mu_);
  const Balance* b = accounts_.Get(account);
  return b == nullptr ? Balance{} : *b;
}

std::map<std::string, Balance> Projections::BalancesWithPrefix(const DomainState&,
                                                               const std::string& prefix) const {
  ReaderLock lock(mu_);
  std::map<std::string, Balance> out;
  for (AccountId id = 0; id < accounts_.id_end(); ++id) {
    const Balance* b = accounts_.Get(id);
    if (b != nullptr && accounts_.name(id).starts_with(prefix)) out[accounts_.name(id)] = *b;
  }
  return out;
}

std::map<std::string, PaidTotal> Projections::PaidTo(const DomainState&,
                                                     const std::string& beneficiary) const {
  ReaderLock lock(mu_);
  std::map<std::string, PaidTotal> out;
  auto it = person_of_name_.find(beneficiary);
  if (it == person_of_name_.end()) return out;
  for (const PaidRow& row : people_[it->second].rows)
    out[PaidKey(row)] = PaidTotal{row.amount_fen, row.lines};
  return out;
}

std::vector<Projections::PaidRow>::iterator Projections::PaidRowAt(std::vector<PaidRow>& rows,
                                                                   std::pair<int32_t, NameId> key) {
  return std::lower_bound(rows.begin(), rows.end(), key,
                          [](const PaidRow& r, const auto& k) { return r.Key() < k; });
}

Projections::PaidRow& Projections::PaidRowOf(std::vector<PaidRow>& rows, NameId program,
                                             int32_t period, bool* existed) {
  const std::pair key(period, program);
  // Most payments are for the newest month: check the end before searching.
  auto at = !rows.empty() && rows.back().Key() < key ? rows.end() : PaidRowAt(rows, key);
  *existed = at != rows.end() && at->Key() == key;
  if (*existed) return *at;
  PaidRow row;
  row.period = period;
  row.program = program;
  return *rows.insert(at, row);
}

std::string Projections::PaidKey(const PaidRow& row) const {
  return programs_[row.program] + "/" + std::to_string(row.period);
}

std::map<std::string, RegionTotal> Projections::RegionTotals(const DomainState&,
                                                             const std::string& program) const {
  ReaderLock lock(mu_);
  std::map<std::string, RegionTotal> out;
  std::string prefix = "r/" + program + "/";
  for (const auto& [key, r] : regions_) {
    if (key.starts_with(prefix)) out[key.substr(prefix.size())] = r;
  }
  return out;
}

Result<Amount> Projections::SumOfBalances(const DomainState&) const {
  ReaderLock lock(mu_);
  Amount sum;
  for (AccountId id = 0; id < accounts_.id_end(); ++id) {
    const Balance* b = accounts_.Get(id);
    if (b != nullptr && !sum.TryAdd(Amount::Fen(b->posted_fen)))
      return Corruption("the sum of all balances would overflow a 64-bit count of fen (at " +
                        accounts_.name(id) + ")");
  }
  return sum;
}

Status Projections::failure() const {
  ReaderLock lock(mu_);
  return totals_.failure();
}

std::optional<uint64_t> Projections::failed_entry() const {
  ReaderLock lock(mu_);
  return totals_.failed_entry();
}

Result<std::pair<Hash, uint64_t>> Projections::StoredDigest(const Log& log) {
  RowDigest digest;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(log.db()->NewIterator(ro, log.projections_column()));
  std::optional<std::string> recorded;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    if (key == kProjectionsDigestKey) {
      recorded = std::string(value);
    } else {
      digest.Add(key, value, /*subtract=*/false);
    }
  }
  if (!it->status().ok()) return IoError("cannot scan projections: " + it->status().ToString());
  constexpr std::pair<Hash, uint64_t> kNoReplayHasThis{Hash{}, 0};
  if (!recorded) return digest.rows == 0 ? std::make_pair(Hash{}, uint64_t{0}) : kNoReplayHasThis;
  FL_RETURN_IF_ERROR(CheckLayout(*recorded));
  // The digest row, written with every change, must agree with the rows themselves.
  if (*recorded != DigestRowValue(digest)) return kNoReplayHasThis;
  return std::make_pair(digest.Bytes32(), digest.rows);
}

Result<Balance> Projections::BalanceAsOf(const Log& log, const std::string& account,
                                         uint64_t index) {
  if (!IsFundAccount(account)) {
    return InvalidArgument(
        "balances as of an entry are kept for fund accounts (fund/<fund>/<bucket>), not '" +
        account + "'");
  }
  std::string target = HistoryKey(account, index);
  std::string prefix = "h/" + account + "/";
  std::unique_ptr<rocksdb::Iterator> it(
      log.db()->NewIterator(rocksdb::ReadOptions(), log.projections_column()));
  it->SeekForPrev(target);
  if (!it->status().ok()) return IoError("cannot read balance history: " + it->status().ToString());
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8)
    return Balance{};
  std::string_view v(it->value().data(), it->value().size());
  if (v.size() != 16) return Corruption("balance history row of " + account + " is malformed");
  return Balance{Field(v, 0), Field(v, 1)};
}

}  // namespace fundledger

namespace fundledger {

LedgerOptions WithProjections(Projections& projections, LedgerOptions options) {
  options.observers.push_back(&projections);
  auto previous = options.after_replay;
  options.after_replay = [&projections, previous](const Log& log, const Domain& domain) -> Status {
    if (previous) FL_RETURN_IF_ERROR(previous(log, domain));
    FL_RETURN_IF_ERROR(projections.failure());  // a log whose sums overflow opens nowhere
    FL_ASSIGN_OR_RETURN(auto stored, Projections::StoredDigest(log));
    auto [digest, rows] = domain.Read([&](const DomainState& at) {
      return std::pair(projections.digest(at), projections.rows(at));
    });
    if (stored.first != digest || stored.second != rows) {
      return Corruption("stored projections (" + std::to_string(stored.second) + " rows, digest " +
                        HashHex(stored.first).substr(0, 16) +
                        "...) differ from a replay of the log (" + std::to_string(rows) +
                        " rows, digest " + HashHex(digest).substr(0, 16) +
                        "...); run `fundledger replay --repair` to rebuild them from the log");
    }
    return Status::Ok();
  };
  return options;
}

}  // namespace fundledger
