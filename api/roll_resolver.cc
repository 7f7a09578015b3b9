#include "api/roll_resolver.h"

#include <algorithm>
#include <map>

#include "crypto/encoding.h"
#include "ledger/domain_rules.h"
#include "ledger/rule_code.h"
#include "ledger/vault.h"

namespace fundledger {
namespace {

// The names clerks give programs, by category (民政 usage; the ledger's ids are English).
const std::map<std::string, fb::ProgramCategory, std::less<>>& CategoryNames() {
  using C = fb::ProgramCategory;
  static const std::map<std::string, C, std::less<>> names{
      {"低保", C::dibao},
      {"最低生活保障", C::dibao},
      {"城乡低保", C::dibao},
      {"特困", C::tekun},
      {"特困供养", C::tekun},
      {"特困人员救助供养", C::tekun},
      {"临时救助", C::temporary},
      {"医疗救助", C::medical},
      {"残疾人生活补贴", C::disability_living},
      {"困难残疾人生活补贴", C::disability_living},
      {"护理补贴", C::disability_care},
      {"重度残疾人护理补贴", C::disability_care},
      {"高龄津贴", C::elderly_allowance},
      {"孤儿", C::orphan},
      {"孤儿基本生活费", C::orphan},
  };
  return names;
}

Status RowError(const RollRow& row, RuleCode code, std::string message, const char* field) {
  return RuleError(code, std::move(message), field).WithLine(row.line.line_no);
}

Status RowInvalid(const RollRow& row, std::string message, const char* field) {
  return InvalidArgument(std::move(message)).WithField(field).WithLine(row.line.line_no);
}

// Maps the row's person to a beneficiary id; every problem goes to `problems`.
bool ResolvePerson(const DomainState& s, const RollIdentities& ids, RollRow& row,
                   std::vector<Status>& problems) {
  size_t before = problems.size();
  std::string by_number;
  if (!row.id_number.empty()) {
    Status valid = CheckIdNumber(row.id_number);
    if (!valid.ok()) {
      problems.push_back(RowInvalid(row, valid.message(), "id_number"));
    } else {
      Result<std::optional<std::string>> person = ids.person_of(row.id_number);
      if (!person.ok()) {
        problems.push_back(
            RowInvalid(row, "the ID number could not be looked up: " + person.status().message(),
                       "id_number"));
      } else if (!person->has_value()) {
        problems.push_back(RowError(row, RuleCode::kUnknownBeneficiary,
                                    "no person is registered with this ID number", "id_number"));
      } else {
        by_number = **person;
      }
    }
  }
  std::string& id = row.line.beneficiary;
  if (!id.empty() && !s.beneficiaries.count(id)) {
    problems.push_back(RowError(row, RuleCode::kUnknownBeneficiary,
                                "beneficiary '" + id.substr(0, 64) + "' is not registered",
                                "beneficiary_id"));
  } else if (!id.empty() && !by_number.empty() && by_number != id) {
    problems.push_back(RowInvalid(
        row, "the ID number belongs to another person than beneficiary '" + id + "'", "id_number"));
  } else if (id.empty()) {
    id = by_number;
  }
  if (problems.size() != before || id.empty()) return false;
  if (!row.name.empty()) {
    Result<std::string> name = ids.name_of(id);
    if (!name.ok()) {
      problems.push_back(RowError(row, RuleCode::kBeneficiaryErased,
                                  "the person's record cannot be read: " + name.status().message(),
                                  "name"));
    } else if (*name != row.name) {
      problems.push_back(RowInvalid(row, "the name does not match the person's record", "name"));
    }
  }
  return problems.size() == before;
}

}  // namespace

Result<std::string> ResolveProgram(const DomainState& s, const std::string& fund,
                                   std::string_view text) {
  if (s.programs.count(std::string(text))) return std::string(text);
  std::vector<std::string> named, in_fund;
  auto category = CategoryNames().find(text);
  for (const auto& [id, p] : s.programs) {
    bool match =
        p.name == text || (category != CategoryNames().end() && p.category == category->second);
    if (!match) continue;
    named.push_back(id);
    auto f = s.funds.find(fund);
    if (f != s.funds.end() && f->second.programs.count(id)) in_fund.push_back(id);
  }
  const std::vector<std::string>& candidates = in_fund.empty() ? named : in_fund;
  if (candidates.size() == 1) return candidates.front();
  std::string message = "program '" + std::string(text.substr(0, 64)) + "' ";
  if (candidates.empty()) return RuleError(RuleCode::kUnknownProgram, message + "is not defined");
  std::string list;
  for (const std::string& id : candidates) list += (list.empty() ? "" : ", ") + id;
  return RuleError(RuleCode::kUnknownProgram,
                   message + "could be any of " + list + ": write the program's id");
}

ResolvedRoll ResolveRoll(const DomainState& s, const RollTarget& target,
                         const RollIdentities& identities, ParsedRoll roll) {
  ResolvedRoll out;
  out.problems = std::move(roll.errors);
  std::map<std::string, Result<std::string>, std::less<>> programs;  // a roll names few
  std::vector<uint32_t> checked_rows;
  for (RollRow& row : roll.rows) {
    bool person = ResolvePerson(s, identities, row, out.problems);
    bool program = false;
    if (!row.line.program.empty()) {
      auto it = programs.find(row.line.program);
      if (it == programs.end())
        it = programs.emplace(row.line.program, ResolveProgram(s, target.fund, row.line.program))
                 .first;
      if (it->second.ok()) {
        row.line.program = *it->second;
        program = true;
      } else {
        out.problems.push_back(
            Status(it->second.status()).WithField("program_id").WithLine(row.line.line_no));
      }
    }
    if (!row.parsed || !person || !program) continue;
    out.lines.push_back(std::move(row.line));
  }
  // A roll without problems so far is checked by the ledger as it commits; one with problems
  // is checked here too, so that its rule violations come in the same answer.
  if (out.problems.empty()) {
    for (const RollLine& l : out.lines) (void)out.total.TryAdd(Amount::Fen(l.amount_fen));
    return out;
  }
  bool all_rows = out.lines.size() == roll.rows.size();
  std::vector<fb::DisbursementBatchPreparedT> chunks =
      PackBatch(target.batch_id, target.fund, target.bucket, target.period, "", out.lines);
  std::vector<const fb::DisbursementBatchPreparedT*> pointers;
  for (const auto& c : chunks) pointers.push_back(&c);
  Status rules = pointers.empty() ? Status::Ok() : CheckBatchRules(s, pointers);
  if (rules.rule() == RuleCodeName(RuleCode::kLinesRejected)) {
    for (const Status& d : rules.details()) out.problems.push_back(d);
  } else if (!rules.ok() && (all_rows || rules.code() != StatusCode::kRuleViolation ||
                             rules.rule() != RuleCodeName(RuleCode::kInsufficientFunds))) {
    out.roll_problem = rules;  // funds are judged on the whole roll only
  }
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const Status& a, const Status& b) { return a.line() < b.line(); });
  return out;
}

RollIdentities LedgerIdentities(const Ledger& ledger) {
  return {[&ledger](std::string_view id_number) {
            return ledger.vault().FindPerson(ledger.log(), id_number);
          },
          [&ledger](const std::string& subject) -> Result<std::string> {
            FL_ASSIGN_OR_RETURN(PersonalData person, ledger.ReadPersonalData(subject));
            return person.name;
          }};
}

}  // namespace fundledger
