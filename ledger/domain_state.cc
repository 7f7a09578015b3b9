#include "ledger/domain_state.h"

#include <algorithm>
#include <cassert>

#include "ledger/events.h"

namespace fundledger {

std::string FundAccount(std::string_view fund, std::string_view bucket) {
  std::string s = "fund/";
  s += fund;
  s += "/";
  s += bucket;
  return s;
}
std::string BeneficiaryAccount(std::string_view beneficiary) {
  constexpr std::string_view kPrefix = "ben/";
  std::string s;
  s.reserve(kPrefix.size() + beneficiary.size());  // built once: one per line of an approval
  s += kPrefix;
  s += beneficiary;
  return s;
}
std::string ExternalAccount(std::string_view name) { return "ext/" + std::string(name); }

const BatchLine* BatchState::FindLine(uint32_t line_no) const {
  if (!unordered_line_pos.empty()) {
    auto it = unordered_line_pos.find(line_no);
    return it == unordered_line_pos.end() ? nullptr : &lines[it->second];
  }
  // Rising numbers: a roll numbered 1..n holds line k at k-1; any other is bisected.
  if (line_no >= 1 && line_no - 1 < lines.size() && lines[line_no - 1].line_no == line_no)
    return &lines[line_no - 1];
  auto it = std::lower_bound(lines.begin(), lines.end(), line_no,
                             [](const BatchLine& l, uint32_t n) { return l.line_no < n; });
  return it != lines.end() && it->line_no == line_no ? &*it : nullptr;
}

void BatchState::AddLine(const BatchLine& line) {
  if (unordered_line_pos.empty() && !lines.empty() && line.line_no <= lines.back().line_no) {
    unordered_line_pos.reserve(lines.size() + 1);
    for (size_t i = 0; i < lines.size(); ++i) unordered_line_pos[lines[i].line_no] = i;
  }
  if (!unordered_line_pos.empty()) unordered_line_pos[line.line_no] = lines.size();
  lines.push_back(line);
}

void BatchState::TruncateLines(size_t n) {
  if (n >= lines.size()) return;
  lines.resize(n);
  if (unordered_line_pos.empty()) return;
  unordered_line_pos.clear();  // rebuilt: a dropped line may have shadowed a kept one's number
  auto not_rising = [](const BatchLine& a, const BatchLine& b) { return a.line_no >= b.line_no; };
  if (std::adjacent_find(lines.begin(), lines.end(), not_rising) == lines.end()) return;
  for (size_t i = 0; i < lines.size(); ++i) unordered_line_pos[lines[i].line_no] = i;
}

void ReversibleEntries::Add(uint64_t index, const std::vector<Posting>& postings) {
  if (index < ends_.size()) {
    // Entries skipped before (they moved nothing) and later undone: only those may be passed.
    assert(std::none_of(present_.begin() + static_cast<ptrdiff_t>(index), present_.end(),
                        [](bool p) { return p; }));
    ends_.resize(index);
    present_.resize(index);
  }
  ends_.resize(index, postings_.size());  // entries in between hold no postings
  present_.resize(index, false);
  for (const Posting& p : postings) {
    assert(p.account_id != kNoAccountId);
    postings_.push_back(CompactPosting{p.account_id, p.posted_delta_fen, p.pending_delta_fen});
  }
  ends_.push_back(postings_.size());
  present_.push_back(true);
  ++count_;
}

void ReversibleEntries::Remove(uint64_t index) {
  if (!Contains(index)) return;
  assert(index + 1 == ends_.size());  // undo runs newest first
  postings_.resize(StartOf(index));
  ends_.pop_back();
  present_.pop_back();
  --count_;
}

std::vector<Posting> ReversibleEntries::Find(uint64_t index, const Accounts& accounts) const {
  std::vector<Posting> out;
  if (!Contains(index)) return out;
  for (uint64_t k = StartOf(index); k < ends_[index]; ++k) {
    const CompactPosting& c = postings_[k];
    out.push_back(accounts.PostingTo(c.account, c.posted_delta_fen, c.pending_delta_fen));
  }
  return out;
}

std::vector<uint64_t> ReversibleEntries::SortedIndices() const {
  std::vector<uint64_t> out;
  out.reserve(count_);
  for (uint64_t i = 0; i < present_.size(); ++i) {
    if (present_[i]) out.push_back(i);
  }
  return out;
}

const StandardTerm* ProgramState::TermAt(int32_t month, uint64_t before_index) const {
  const StandardTerm* found = nullptr;
  for (const StandardTerm& t : terms) {  // in recorded order: a later record wins a tie
    if (t.index >= before_index || t.effective_month > month) continue;
    if (found == nullptr || t.effective_month >= found->effective_month) found = &t;
  }
  return found;
}

int32_t BeneficiaryState::AgeOn(int32_t date) const {
  return fundledger::AgeOn(birth_date != 0 ? birth_date : birth_month * 100 + 1, date);
}

fb::BeneficiaryStatus BeneficiaryState::StatusOn(int32_t date) const {
  fb::BeneficiaryStatus status = fb::BeneficiaryStatus::active;
  for (const StatusChange& c : statuses) {
    if (c.effective_date <= date) status = c.status;
  }
  return status;
}

int32_t BeneficiaryState::DeathDate() const {
  for (const StatusChange& c : statuses) {
    if (c.status == fb::BeneficiaryStatus::deceased) return c.effective_date;
  }
  return 0;
}

std::string_view BatchStatusName(BatchStatus status) {
  switch (status) {
    case BatchStatus::kPrepared:
      return "prepared";
    case BatchStatus::kApproved:
      return "approved";
    case BatchStatus::kRejected:
      return "rejected";
  }
  return "unknown";
}

const Balance& DomainState::BalanceOf(std::string_view account) const {
  static const Balance kZero;
  const Balance* b = accounts.Get(account);
  return b == nullptr ? kZero : *b;
}

AccountId DomainState::PersonAccount(NameId person) {
  if (person < person_accounts.size() && person_accounts[person] != kNoAccountId)
    return person_accounts[person];
  const AccountId id = accounts.Intern(BeneficiaryAccount(names[person]));
  if (person >= person_accounts.size()) person_accounts.resize(size_t{person} + 1, kNoAccountId);
  person_accounts[person] = id;
  return id;
}

bool BeneficiaryIndex::Set(NameId id, BeneficiaryState* person) {
  if (id >= people_.size()) people_.resize(id + 1, nullptr);
  bool was_empty = people_[id] == nullptr;
  people_[id] = person;
  return was_empty;
}

const BeneficiaryState* DomainState::FindBeneficiary(std::string_view id) const {
  if (std::optional<NameId> n = names.Find(id)) {
    if (const BeneficiaryState* b = beneficiary_index.Get(*n)) return b;
  }
  auto it = beneficiaries.find(std::string(id));
  return it == beneficiaries.end() ? nullptr : &it->second;
}

const BeneficiaryState* DomainState::BeneficiaryOf(NameId id) const {
  if (const BeneficiaryState* b = beneficiary_index.Get(id)) return b;
  auto it = beneficiaries.find(names[id]);
  return it == beneficiaries.end() ? nullptr : &it->second;
}

std::optional<NameId> DomainState::IndexBeneficiary(const std::string& id) {
  auto it = beneficiaries.find(id);
  assert(it != beneficiaries.end());
  NameId n = names.Intern(id);
  if (!beneficiary_index.Set(n, &it->second)) return std::nullopt;
  return n;
}

EnrollmentTerms& Enrollments::GetOrAdd(EnrollmentId id, bool* added) {
  if (id.beneficiary >= by_person_.size()) by_person_.resize(size_t{id.beneficiary} + 1);
  std::vector<ProgramTerms>& programs = by_person_[id.beneficiary];
  for (ProgramTerms& p : programs) {
    if (p.program == id.program) {
      if (added != nullptr) *added = false;
      return p.terms;
    }
  }
  ++size_;
  if (added != nullptr) *added = true;
  return programs.emplace_back(ProgramTerms{id.program, {}}).terms;
}

void Enrollments::Erase(EnrollmentId id) {
  if (id.beneficiary >= by_person_.size()) return;
  std::vector<ProgramTerms>& programs = by_person_[id.beneficiary];
  size_ -= std::erase_if(programs, [&](const ProgramTerms& p) { return p.program == id.program; });
}

const EnrollmentTerms* DomainState::EnrollmentsOf(NameId beneficiary, NameId program) const {
  return enrollments.Find(EnrollmentId{beneficiary, program});
}

const EnrollmentTerms* DomainState::EnrollmentsOf(std::string_view beneficiary,
                                                  std::string_view program) const {
  std::optional<NameId> b = names.Find(beneficiary), p = names.Find(program);
  return b && p ? EnrollmentsOf(*b, *p) : nullptr;  // enrolling interns both
}

std::string EnrollmentKey(std::string_view beneficiary, std::string_view program) {
  std::string s(beneficiary);
  s += '\x1f';
  s += program;
  return s;
}

}  // namespace fundledger
