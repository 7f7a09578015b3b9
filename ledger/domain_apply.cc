#include "ledger/domain_apply.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "ledger/rule_code.h"

namespace fundledger {
namespace {

// The person's region as a view of its interned name: it stays valid when the person changes
// later (observers of a replay read it on their own thread while the domain goes on).
std::string_view RegionOf(const DomainState& s, NameId ben) {
  const BeneficiaryState* b = s.BeneficiaryOf(ben);
  if (b == nullptr || b->region_name == kNoNameId) {
    assert(b == nullptr || b->region.empty());  // recording a region interns it
    return {};
  }
  return s.names[b->region_name];
}

// -fen, or amount_overflow for the one amount whose negation does not fit (an imported log's).
Result<int64_t> Negated(int64_t fen) {
  FL_ASSIGN_OR_RETURN(Amount negated, Amount::Fen(fen).Negated());
  return negated.fen();
}

PaymentEffect PaymentOf(const DomainState& s, const BatchLine& l, int64_t amount, int32_t lines) {
  return PaymentEffect{s.names[l.beneficiary],
                       s.names[l.program],
                       RegionOf(s, l.beneficiary),
                       l.period,
                       amount,
                       lines,
                       l.beneficiary,
                       l.program};
}

class Applier {
 public:
  // `applied` may be null only for ApplyPlannedApproval, which records no postings of its own.
  Applier(DomainState& s, UndoLog* undo, const EntryMeta& m, AppliedEntry* applied)
      : s_(s), undo_(undo), m_(m), applied_(applied) {}

  template <typename Map, typename Key>
  void Save(Map& map, const Key& key) {
    if (undo_ == nullptr) return;
    auto it = map.find(key);
    if (it == map.end()) {
      undo_->Push([&map, key] { map.erase(key); });
    } else {
      undo_->Push([&map, key, old = it->second] { map[key] = old; });
    }
  }
  // Undo for one batch that copies no lines: its header and line count come back, lines
  // added since are dropped. Changes to the states of existing lines need their own steps.
  void SaveBatchHeader(const std::string& id) {
    if (undo_ == nullptr) return;
    auto it = s_.batches.find(id);
    if (it == s_.batches.end()) {
      undo_->Push([&batches = s_.batches, id] { batches.erase(id); });
      return;
    }
    BatchState& b = it->second;  // std::map: the reference outlives later inserts
    BatchState header;
    header.maker = b.maker;
    header.fund = b.fund;
    header.bucket = b.bucket;
    header.period = b.period;
    header.prepared_index = b.prepared_index;
    header.decided_index = b.decided_index;
    header.status = b.status;
    header.total_fen = b.total_fen;
    header.chunks = b.chunks;
    header.chunks_seen = b.chunks_seen;
    undo_->Push([&b, header = std::move(header), n = b.lines.size()]() mutable {
      b.TruncateLines(n);
      header.lines = std::move(b.lines);
      header.unordered_line_pos = std::move(b.unordered_line_pos);
      b = std::move(header);
    });
  }
  void SaveLineStates(BatchState& b) {
    if (undo_ == nullptr) return;
    std::vector<LineState> old;
    old.reserve(b.lines.size());
    for (const BatchLine& l : b.lines) old.push_back(l.state);
    undo_->Push([&b, old = std::move(old)] {
      for (size_t i = 0; i < old.size() && i < b.lines.size(); ++i) b.lines[i].state = old[i];
    });
  }
  template <typename Set, typename Value>
  void Insert(Set& set, const Value& v) {
    if (set.insert(v).second && undo_ != nullptr) undo_->Push([&set, v] { set.erase(v); });
  }

  Status Post(const std::string& account, int64_t posted, int64_t pending) {
    return Post(s_.accounts.Intern(account), posted, pending);
  }
  // The ids of a chunk's table of names: as the rules found them (`known`, by place), the
  // rest interned now.
  std::vector<NameId> NameIds(const std::vector<std::string>& names,
                              const std::vector<NameId>* known) {
    assert(known == nullptr || known->size() == names.size());
    std::vector<NameId> ids(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      ids[i] = known != nullptr ? (*known)[i] : kNoNameId;
      if (ids[i] == kNoNameId) ids[i] = s_.names.Intern(names[i]);
      assert(s_.names[ids[i]] == names[i]);
    }
    return ids;
  }
  Status Post(AccountId account, int64_t posted, int64_t pending) {
    FL_RETURN_IF_ERROR(ChangeBalance(account, posted, pending));
    applied_->postings.push_back(s_.accounts.PostingTo(account, posted, pending));
    return Status::Ok();
  }
  // Changes nothing when the new balance would overflow.
  Status ChangeBalance(AccountId account, int64_t posted, int64_t pending) {
    bool added = false;
    Balance& b = s_.accounts.GetOrAdd(account, &added);
    Amount new_posted = Amount::Fen(b.posted_fen), new_pending = Amount::Fen(b.pending_fen);
    if (!new_posted.TryAdd(Amount::Fen(posted)) || !new_pending.TryAdd(Amount::Fen(pending))) {
      if (added) s_.accounts.Erase(account);
      return AmountOverflow("the balance of " + s_.accounts.name(account));
    }
    if (undo_ != nullptr) {
      if (added) {
        undo_->Push([&accounts = s_.accounts, account] { accounts.Erase(account); });
      } else {
        undo_->Push(
            [&accounts = s_.accounts, account, old = b] { accounts.Restore(account, old); });
      }
    }
    b.posted_fen = new_posted.fen();
    b.pending_fen = new_pending.fen();
    return Status::Ok();
  }
  Status Move(const std::string& from, const std::string& to, int64_t amount) {
    FL_ASSIGN_OR_RETURN(int64_t out, Negated(amount));
    FL_RETURN_IF_ERROR(Post(from, out, 0));
    return Post(to, amount, 0);
  }
  void TouchBucket(const std::string& fund, const std::string& bucket) {
    auto it = s_.funds.find(fund);
    if (it != s_.funds.end() && !it->second.buckets.count(bucket)) {
      Save(s_.funds, fund);
      it->second.buckets.insert(bucket);
    }
  }
  // After beneficiaries[id] was inserted: its undo (run before the map's) unindexes it.
  void IndexBeneficiary(const std::string& id) {
    std::optional<NameId> added = s_.IndexBeneficiary(id);
    if (added && undo_ != nullptr)
      undo_->Push([&index = s_.beneficiary_index, n = *added] { index.Clear(n); });
  }
  void Reversible() {
    assert(!s_.reversible.Contains(m_.index));  // each entry is applied once
    s_.reversible.Add(m_.index, applied_->postings);
    if (undo_ != nullptr)
      undo_->Push([&reversible = s_.reversible, index = m_.index] { reversible.Remove(index); });
  }
  void Payment(const BatchLine& l, int64_t amount, int32_t lines) {
    applied_->payments.push_back(PaymentOf(s_, l, amount, lines));
  }
  // A batch and one of its lines that a correction names: always there after the rules, but an
  // imported log may name anything.
  Status FindLine(const std::string& batch_id, uint32_t line_no, BatchState** batch,
                  BatchLine** line) {
    auto b = s_.batches.find(batch_id);
    if (b == s_.batches.end())
      return RuleError(RuleCode::kUnknownBatch, "batch '" + batch_id + "' does not exist");
    BatchLine* found = b->second.FindLine(line_no);
    if (found == nullptr) {
      return RuleError(RuleCode::kUnknownLine,
                       "batch '" + batch_id + "' has no line " + std::to_string(line_no));
    }
    *batch = &b->second;
    *line = found;
    return Status::Ok();
  }
  void SetLineState(const LineRef& ref, BatchLine& l, LineState state) {
    if (undo_ != nullptr) undo_->Push([&l, old = l.state] { l.state = old; });
    s_.slots.OnLineState(l.slot(), ref, l.state, state, undo_);
    l.state = state;
  }
  // This entry corrects line `l` of `batch_id`: the line moves as its state machine says
  // (line_corrections.h; for an imported log's entry too, which no rule checked).
  void Correct(const std::string& batch_id, BatchLine& l, CorrectionKind kind, int64_t amount) {
    LineRef ref{s_.names.Intern(batch_id), l.line_no};
    LineMove move =
        NextLineState(l.state, l.amount_fen, s_.corrections.Of(ref).recovered_fen, kind, amount);
    s_.corrections.Record(m_.index, Correction{ref, kind, l.state, amount, {}}, undo_);
    if (move.to != l.state) SetLineState(ref, l, move.to);
  }
  // The reversal of correction `index`, its line's latest: the line is again as it found it.
  void TakeBackCorrection(uint64_t index, const Correction& c) {
    BatchState* b = nullptr;
    BatchLine* l = nullptr;
    if (!FindLine(s_.names[c.line.batch], c.line.line_no, &b, &l).ok()) return;
    const LineState before = l->state;
    s_.corrections.TakeBack(index, undo_);
    SetLineState(c.line, *l, c.from);
    int64_t to_person = c.kind == CorrectionKind::kReissue ? -c.amount_fen : c.amount_fen;
    Payment(*l, to_person, CountsAsPaid(c.from) - CountsAsPaid(before));
  }
  static int32_t CountsAsPaid(LineState s) {
    return s == LineState::kPaid || s == LineState::kReissued ? 1 : 0;
  }

  Status operator()(const fb::FundOpenedT& e) {
    Save(s_.funds, e.fund_id);
    FundState f;
    f.name = e.name;
    f.kind = e.kind;
    f.organisation = e.organisation;
    f.programs.insert(e.programs.begin(), e.programs.end());
    f.purposes.insert(e.purposes.begin(), e.purposes.end());
    f.bank_account_token = e.bank_account_token;
    s_.funds[e.fund_id] = std::move(f);
    return Status::Ok();
  }
  Status operator()(const fb::FundClosedT& e) {
    Save(s_.funds, e.fund_id);
    s_.funds[e.fund_id].closed = true;
    return Status::Ok();
  }
  Status operator()(const fb::ProgramDefinedT& e) {
    Save(s_.programs, e.program_id);
    ProgramState p;
    p.name = e.name;
    p.category = e.category;
    p.period = e.period;
    p.terms.push_back(StandardTerm{e.effective_month, e.standard_fen, e.cap_fen, m_.index, ""});
    p.excludes.insert(e.excludes.begin(), e.excludes.end());
    p.age_min_years = e.age_min_years;
    p.age_max_years = e.age_max_years;
    p.payments_max = e.payments_max;
    p.payments_window_months = e.payments_window_months;
    s_.programs[e.program_id] = std::move(p);
    return Status::Ok();
  }
  Status operator()(const fb::ProgramStandardChangedT& e) {
    Save(s_.programs, e.program_id);
    // Kept beside every earlier term: payments made before it stay judged by those.
    s_.programs[e.program_id].terms.push_back(
        StandardTerm{e.effective_month, e.standard_fen, e.cap_fen, m_.index, e.document});
    return Status::Ok();
  }
  Status operator()(const fb::BeneficiaryRegisteredT& e) {
    Save(s_.beneficiaries, e.beneficiary_id);
    BeneficiaryState b;
    b.household = e.household_id;
    b.region = e.region_code;
    b.region_name = s_.names.Intern(e.region_code);
    if (e.id_commitment.size() == kHashBytes)
      std::copy(e.id_commitment.begin(), e.id_commitment.end(), b.id_commitment.begin());
    b.birth_month = e.birth_month;
    b.birth_date = e.birth_date;
    b.payee_role = e.payee_role;
    b.bank_account_token = e.bank_account_token;
    b.registered_date = e.registered_date;
    b.registered_index = m_.index;
    s_.beneficiaries[e.beneficiary_id] = std::move(b);
    IndexBeneficiary(e.beneficiary_id);
    std::string c = HexEncode(e.id_commitment);
    if (!s_.commitments.count(
            c)) {  // replay of an imported log may hold duplicates: keep the first
      Save(s_.commitments, c);
      s_.commitments[c] = e.beneficiary_id;
    }
    return Status::Ok();
  }
  Status operator()(const fb::BeneficiaryChangedT& e) {
    Save(s_.beneficiaries, e.beneficiary_id);
    BeneficiaryState& b = s_.beneficiaries[e.beneficiary_id];
    IndexBeneficiary(e.beneficiary_id);  // an imported log may change a person never registered
    b.statuses.push_back(StatusChange{e.effective_date, e.status, m_.index});
    std::stable_sort(b.statuses.begin(), b.statuses.end(),
                     [](const StatusChange& x, const StatusChange& y) {
                       return x.effective_date < y.effective_date;
                     });
    if (!e.region_code.empty()) {
      b.region = e.region_code;
      b.region_name = s_.names.Intern(e.region_code);
    }
    if (!e.household_id.empty()) b.household = e.household_id;
    if (!e.bank_account_token.empty()) b.bank_account_token = e.bank_account_token;
    return Status::Ok();
  }
  template <typename T>
  void Enrollment(const T& e) {
    const EnrollmentId key{s_.names.Intern(e.beneficiary_id), s_.names.Intern(e.program_id)};
    bool added = false;
    EnrollmentTerms& terms = s_.enrollments.GetOrAdd(key, &added);
    if (undo_ != nullptr) {
      if (added) {
        undo_->Push([&enrollments = s_.enrollments, key] { enrollments.Erase(key); });
      } else {
        undo_->Push(
            [&enrollments = s_.enrollments, key, old = terms] { enrollments.GetOrAdd(key) = old; });
      }
    }
    // New terms replace whatever was in force from from_month on.
    std::erase_if(terms, [&](const EnrollmentTerm& t) { return t.from_month >= e.from_month; });
    for (EnrollmentTerm& t : terms) {
      if (t.to_month == 0 || t.to_month >= e.from_month)
        t.to_month = MonthFromIndex(MonthIndex(e.from_month) - 1);
    }
    terms.push_back(EnrollmentTerm{e.from_month, e.to_month, e.monthly_amount_fen,
                                   e.age_extension_to_month, e.age_extension_doc});
    Save(s_.programs_of, e.beneficiary_id);
    std::vector<std::string>& progs = s_.programs_of[e.beneficiary_id];
    if (std::find(progs.begin(), progs.end(), e.program_id) == progs.end())
      progs.push_back(e.program_id);
  }
  Status operator()(const fb::EnrolledT& e) {
    Enrollment(e);
    return Status::Ok();
  }
  Status operator()(const fb::EnrollmentChangedT& e) {
    Enrollment(e);
    return Status::Ok();
  }
  Status operator()(const fb::AppropriatedT& e) {
    TouchBucket(e.fund_id, e.bucket);
    FL_RETURN_IF_ERROR(
        Move(ExternalAccount(e.source), FundAccount(e.fund_id, e.bucket), e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::DonationReceivedT& e) {
    TouchBucket(e.fund_id, e.bucket);
    FL_RETURN_IF_ERROR(
        Move(ExternalAccount("donors"), FundAccount(e.fund_id, e.bucket), e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  // Money that lands in `bucket` of `fund` from a lottery bucket of `category` stays lottery
  // money there.
  void MarkLotteryBucket(const std::string& fund, const std::string& bucket,
                         const std::string& category) {
    auto it = s_.funds.find(fund);
    if (it == s_.funds.end() || it->second.lottery_buckets.count(bucket)) return;
    Save(s_.funds, fund);
    it->second.lottery_buckets[bucket] = category;
  }
  // The category of the lottery money in a bucket, or null when it holds none.
  const std::string* LotteryCategoryOf(const std::string& fund, const std::string& bucket) const {
    auto it = s_.funds.find(fund);
    if (it == s_.funds.end()) return nullptr;
    auto b = it->second.lottery_buckets.find(bucket);
    return b == it->second.lottery_buckets.end() ? nullptr : &b->second;
  }
  Status operator()(const fb::LotteryGrantAwardedT& e) {
    TouchBucket(e.to_fund_id, e.project_id);
    MarkLotteryBucket(e.to_fund_id, e.project_id, e.category);
    FL_RETURN_IF_ERROR(Move(FundAccount(e.from_fund_id, e.from_bucket),
                            FundAccount(e.to_fund_id, e.project_id), e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::DisbursementBatchPreparedT& e) {
    Amount total;
    for (const fb::DisbursementLine& l : e.lines) {
      if (!total.TryAdd(Amount::Fen(l.amount_fen())))
        return AmountOverflow("the total of batch '" + e.batch_id + "'");
    }
    auto existing = s_.batches.find(e.batch_id);
    // A first chunk over an existing batch (only in an imported log) replaces its lines.
    bool replaces = e.chunk == 0 && existing != s_.batches.end();
    Amount batch_total = total;
    if (e.chunk != 0 && existing != s_.batches.end() &&
        !batch_total.TryAdd(Amount::Fen(existing->second.total_fen))) {
      return AmountOverflow("the total of batch '" + e.batch_id + "'");
    }
    if (replaces) {
      Save(s_.batches, e.batch_id);
    } else {
      SaveBatchHeader(e.batch_id);
    }
    BatchState& b = s_.batches[e.batch_id];
    if (e.chunk == 0) {
      b = BatchState{};
      b.maker = std::string(m_.actor);
      b.fund = e.fund_id;
      b.bucket = e.bucket;
      b.period = e.period;
      b.prepared_index = m_.index;
      b.chunks = e.chunks;
    }
    b.chunks_seen++;
    // A chunk names each person and program once in its tables: intern those, not each line's
    // (or take the ids the rules found for them).
    const ChunkNameIds* known = m_.chunk_names;
    std::vector<NameId> people = NameIds(e.beneficiary_ids, known ? &known->people : nullptr);
    std::vector<NameId> programs = NameIds(e.program_ids, known ? &known->programs : nullptr);
    const NameId batch = s_.names.Intern(e.batch_id);
    // No reserve: the lines of every batch stay in memory, and growing by push_back keeps a
    // batch of 2^n lines exactly in its capacity (a chunk-sized reserve doubled it).
    const size_t first = b.lines.size();
    for (const fb::DisbursementLine& l : e.lines) {
      assert(l.beneficiary() < people.size() &&
             l.program() < programs.size());  // checked with the event's fields
      b.AddLine(BatchLine{l.line_no(), people[l.beneficiary()], programs[l.program()], l.period(),
                          l.amount_fen(), LineState::kPending});
    }
    // One undo step for the chunk's slots (SaveBatchHeader's drops its lines).
    s_.slots.TakeForPreparedLines(std::span<const BatchLine>(b.lines).subspan(first), batch, undo_);
    b.total_fen = batch_total.fen();
    TouchBucket(e.fund_id, e.bucket);
    return Post(FundAccount(e.fund_id, e.bucket), 0, total.fen());
  }
  Status operator()(const fb::DisbursementBatchApprovedT& e) {
    FL_RETURN_IF_ERROR(PlanApproval(s_, e, *applied_));
    return CommitApproval(e, applied_->postings);
  }
  // The state changes of an approval whose postings were planned (PlanApproval).
  Status CommitApproval(const fb::DisbursementBatchApprovedT& e,
                        const std::vector<Posting>& planned) {
    SaveBatchHeader(e.batch_id);
    BatchState& b = s_.batches[e.batch_id];
    SaveLineStates(b);
    b.status = BatchStatus::kApproved;
    b.decided_index = m_.index;
    FL_RETURN_IF_ERROR(ChangeBalances(planned));
    for (BatchLine& l : b.lines) l.state = LineState::kPaid;
    return Status::Ok();
  }
  // ChangeBalance for each posting, with one undo step for all of them (an approval's lines):
  // 24 bytes a posting, no name. Stops at the first that would overflow; the ones before it
  // stay changed, with their undo. REQUIRES: every posting carries its account's id.
  Status ChangeBalances(const std::vector<Posting>& postings) {
    struct BalanceWas {
      AccountId account;
      bool added;
      Balance old;
    };
    static_assert(sizeof(BalanceWas) == 24, "an undo record per approved line: no name in it");
    std::vector<BalanceWas> were;
    if (undo_ != nullptr) were.reserve(postings.size());
    Status st;
    for (const Posting& p : postings) {
      assert(p.account_id != kNoAccountId);
      bool added = false;
      Balance& b = s_.accounts.GetOrAdd(p.account_id, &added);
      Amount posted = Amount::Fen(b.posted_fen), pending = Amount::Fen(b.pending_fen);
      if (!posted.TryAdd(Amount::Fen(p.posted_delta_fen)) ||
          !pending.TryAdd(Amount::Fen(p.pending_delta_fen))) {
        if (added) s_.accounts.Erase(p.account_id);
        st = AmountOverflow("the balance of " + std::string(p.account));
        break;
      }
      if (undo_ != nullptr) were.push_back({p.account_id, added, b});
      b.posted_fen = posted.fen();
      b.pending_fen = pending.fen();
    }
    if (undo_ != nullptr && !were.empty()) {
      undo_->Push([&accounts = s_.accounts, were = std::move(were)] {
        for (auto w = were.rbegin(); w != were.rend(); ++w) {
          if (w->added) {
            accounts.Erase(w->account);
          } else {
            accounts.Restore(w->account, w->old);
          }
        }
      });
    }
    return st;
  }
  Status operator()(const fb::DisbursementBatchRejectedT& e) {
    SaveBatchHeader(e.batch_id);
    BatchState& b = s_.batches[e.batch_id];
    SaveLineStates(b);
    b.status = BatchStatus::kRejected;
    b.decided_index = m_.index;
    FL_ASSIGN_OR_RETURN(int64_t released, Negated(b.total_fen));
    FL_RETURN_IF_ERROR(Post(FundAccount(b.fund, b.bucket), 0, released));
    std::optional<NameId> batch = s_.names.Find(e.batch_id);  // none: no line of it holds a slot
    for (BatchLine& l : b.lines) {
      if (batch) s_.slots.ReleaseForRejectedLine(l.slot(), SlotHolder{*batch, l.line_no}, undo_);
      l.state = LineState::kRejected;
    }
    return Status::Ok();
  }
  Status operator()(const fb::PaymentReturnedT& e) {
    BatchState* b = nullptr;
    BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindLine(e.batch_id, e.line_no, &b, &l));
    FL_ASSIGN_OR_RETURN(int64_t back, Negated(l->amount_fen));
    SaveBatchHeader(e.batch_id);  // the line's state has its own undo step (SetLineState)
    FL_RETURN_IF_ERROR(Move(BeneficiaryAccount(s_.names[l->beneficiary]),
                            FundAccount(b->fund, b->bucket), l->amount_fen));
    Payment(*l, back, -1);
    Correct(e.batch_id, *l, CorrectionKind::kReturn, l->amount_fen);
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::PaymentReissuedT& e) {
    BatchState* b = nullptr;
    BatchLine* l = nullptr;
    FL_RETURN_IF_ERROR(FindLine(e.batch_id, e.line_no, &b, &l));
    SaveBatchHeader(e.batch_id);  // the line's state has its own undo step (SetLineState)
    FL_RETURN_IF_ERROR(Move(FundAccount(b->fund, b->bucket),
                            BeneficiaryAccount(s_.names[l->beneficiary]), l->amount_fen));
    Payment(*l, l->amount_fen, 1);
    Correct(e.batch_id, *l, CorrectionKind::kReissue, l->amount_fen);
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::RecoveredT& e) {
    TouchBucket(e.fund_id, e.bucket);
    FL_RETURN_IF_ERROR(
        Move(BeneficiaryAccount(e.beneficiary_id), FundAccount(e.fund_id, e.bucket), e.amount_fen));
    // The rules require the line; an imported log's recovery may name none, or one never paid.
    BatchState* b = nullptr;
    BatchLine* l = nullptr;
    if (!e.batch_id.empty() && FindLine(e.batch_id, e.line_no, &b, &l).ok()) {
      const LineState before = l->state;
      FL_ASSIGN_OR_RETURN(int64_t back, Negated(e.amount_fen));
      Correct(e.batch_id, *l, CorrectionKind::kRecovery, e.amount_fen);
      Payment(*l, back, CountsAsPaid(l->state) - CountsAsPaid(before));
    }
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::ReversalT& e) {
    Insert(s_.reversed, e.entry_index);
    // An imported log may reverse anything; an entry that moved nothing has nothing to undo.
    for (const Posting& p : s_.ReversiblePostings(e.entry_index)) {
      FL_ASSIGN_OR_RETURN(int64_t posted, Negated(p.posted_delta_fen));
      FL_ASSIGN_OR_RETURN(int64_t pending, Negated(p.pending_delta_fen));
      FL_RETURN_IF_ERROR(Post(p.account_id, posted, pending));
    }
    // A correction that is not its line's latest (only in an imported log) moves money only.
    const Correction* c = s_.corrections.Find(e.entry_index);
    if (c != nullptr && s_.corrections.Of(c->line).latest == e.entry_index)
      TakeBackCorrection(e.entry_index, *c);
    return Status::Ok();
  }
  Status operator()(const fb::ExpensedT& e) {
    FL_RETURN_IF_ERROR(
        Move(FundAccount(e.fund_id, e.bucket),
             ExternalAccount(std::string("payees/") + fb::EnumNameExpenseClass(e.class_)),
             e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::TransferredBetweenFundsT& e) {
    TouchBucket(e.to_fund_id, e.to_bucket);
    if (const std::string* category = LotteryCategoryOf(e.from_fund_id, e.from_bucket))
      MarkLotteryBucket(e.to_fund_id, e.to_bucket, std::string(*category));
    FL_RETURN_IF_ERROR(Move(FundAccount(e.from_fund_id, e.from_bucket),
                            FundAccount(e.to_fund_id, e.to_bucket), e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::RestrictionReleasedT& e) {
    TouchBucket(e.fund_id, e.to_bucket);
    if (const std::string* category = LotteryCategoryOf(e.fund_id, e.bucket))
      MarkLotteryBucket(e.fund_id, e.to_bucket, std::string(*category));
    FL_RETURN_IF_ERROR(
        Move(FundAccount(e.fund_id, e.bucket), FundAccount(e.fund_id, e.to_bucket), e.amount_fen));
    Reversible();
    return Status::Ok();
  }
  Status operator()(const fb::ErasedT& e) {
    Insert(s_.erased_subjects, e.subject_id);
    auto b = s_.beneficiaries.find(e.subject_id);
    if (b != s_.beneficiaries.end()) {
      Save(s_.beneficiaries, e.subject_id);
      b->second.erased = true;
    }
    return Status::Ok();
  }
  Status operator()(const fb::DisclosurePublishedT& e) {
    s_.disclosures.push_back(Disclosure{e.organisation, e.fund_id, e.period, e.schedule_item,
                                        m_.index, m_.timestamp_ms, e.corrects_index});
    if (undo_ != nullptr) undo_->Push([&disclosures = s_.disclosures] { disclosures.pop_back(); });
    return Status::Ok();
  }
  Status operator()(const std::monostate&) { return Status::Ok(); }

 private:
  DomainState& s_;
  UndoLog* undo_;
  const EntryMeta& m_;
  AppliedEntry* applied_;
};

}  // namespace

Status CheckPostingsBalance(const AppliedEntry& applied) {
  Amount sum;
  for (const Posting& p : applied.postings) {
    if (!sum.TryAdd(Amount::Fen(p.posted_delta_fen)))
      return AmountOverflow("the sum of the entry's postings");
  }
  if (!sum.IsZero()) {
    std::fprintf(stderr, "fundledger: the postings of entry %llu sum to %s yuan, not zero\n",
                 static_cast<unsigned long long>(applied.index), sum.ToYuan().c_str());
    std::abort();
  }
  return Status::Ok();
}

namespace {

// What is wrong with line `l` of batch `batch_id` after a correction, or empty.
std::string LineBreaksInvariant(const DomainState& s, const std::string& batch_id,
                                const BatchLine& l) {
  std::optional<NameId> batch = s.names.Find(batch_id);
  if (!batch) return "its batch was never prepared";
  LineRef ref{*batch, l.line_no};
  int64_t recovered = s.corrections.Of(ref).recovered_fen;
  bool pays = l.state == LineState::kPaid || l.state == LineState::kReissued ||
              l.state == LineState::kRecovered;
  int64_t paid = pays ? l.amount_fen : 0;
  if (recovered < 0 || recovered > paid ||
      (l.state == LineState::kRecovered) != (pays && recovered == paid))
    return FormatFen(recovered) + " yuan recovered of " + FormatFen(paid) + " paid";
  const SlotHolder* holder = s.slots.HolderOf(l.slot());
  if (HoldsPaymentSlot(l.state) != (holder != nullptr && *holder == ref))
    return HoldsPaymentSlot(l.state) ? "it does not hold its payment slot"
                                     : "it holds its payment slot";
  return "";
}

void AssertLine(const DomainState& s, const std::string& batch_id, uint32_t line_no,
                const EntryMeta& meta) {
  auto b = s.batches.find(batch_id);
  if (b == s.batches.end()) return;  // an unknown line moved nothing
  const BatchLine* found = b->second.FindLine(line_no);
  if (found == nullptr) return;
  const BatchLine& l = *found;
  std::string broken = LineBreaksInvariant(s, batch_id, l);
  if (broken.empty()) return;
  std::fprintf(stderr, "fundledger: entry %llu leaves line %u of batch '%s' %s: %s\n",
               static_cast<unsigned long long>(meta.index), line_no, batch_id.c_str(),
               std::string(LineStateName(l.state)).c_str(), broken.c_str());
  std::abort();
}

}  // namespace

void AssertPaymentInvariant(const DomainState& s, const DomainEvent& event, const EntryMeta& meta) {
  if (const auto* e = std::get_if<fb::DisbursementBatchApprovedT>(&event)) {
    auto b = s.batches.find(e->batch_id);
    if (b == s.batches.end()) return;
    for (const BatchLine& l : b->second.lines) {
      if (l.state == LineState::kPaid) continue;
      std::fprintf(stderr,
                   "fundledger: entry %llu approves line %u of batch '%s' but leaves it %s\n",
                   static_cast<unsigned long long>(meta.index), l.line_no, e->batch_id.c_str(),
                   std::string(LineStateName(l.state)).c_str());
      std::abort();
    }
  } else if (const auto* e = std::get_if<fb::PaymentReturnedT>(&event)) {
    AssertLine(s, e->batch_id, e->line_no, meta);
  } else if (const auto* e = std::get_if<fb::PaymentReissuedT>(&event)) {
    AssertLine(s, e->batch_id, e->line_no, meta);
  } else if (const auto* e = std::get_if<fb::RecoveredT>(&event)) {
    if (!e->batch_id.empty()) AssertLine(s, e->batch_id, e->line_no, meta);
  } else if (const auto* e = std::get_if<fb::ReversalT>(&event)) {
    if (const Correction* c = s.corrections.Find(e->entry_index))
      AssertLine(s, s.names[c->line.batch], c->line.line_no, meta);
  }
}

Status ApplyEvent(DomainState& state, const DomainEvent& event, const EntryMeta& meta,
                  UndoLog* undo, AppliedEntry& applied) {
  return std::visit(Applier(state, undo, meta, &applied), event);
}

Status PlanApproval(DomainState& s, const fb::DisbursementBatchApprovedT& approval,
                    AppliedEntry& applied) {
  auto it = s.batches.find(approval.batch_id);
  if (it == s.batches.end()) {
    return RuleError(RuleCode::kUnknownBatch, "batch '" + approval.batch_id + "' does not exist");
  }
  const BatchState& b = it->second;
  FL_ASSIGN_OR_RETURN(int64_t spent, Negated(b.total_fen));
  applied.postings.reserve(b.lines.size() + 1);
  applied.payments.reserve(b.lines.size());
  applied.postings.push_back(
      s.accounts.PostingTo(s.accounts.Intern(FundAccount(b.fund, b.bucket)), spent, spent));
  for (const BatchLine& l : b.lines) {
    applied.postings.push_back(
        s.accounts.PostingTo(s.PersonAccount(l.beneficiary), l.amount_fen, 0));
    applied.payments.push_back(PaymentOf(s, l, l.amount_fen, 1));
  }
  return Status::Ok();
}

Status ApplyPlannedApproval(DomainState& state, const fb::DisbursementBatchApprovedT& approval,
                            const EntryMeta& meta, UndoLog* undo, const AppliedEntry& applied) {
  return Applier(state, undo, meta, nullptr).CommitApproval(approval, applied.postings);
}

}  // namespace fundledger
