// CityBuilder: posts a city's social assistance to a ledger: defines programs, opens funds,
// appropriates money, registers people and enrols them, and pays monthly rolls (a maker
// prepares each, a checker approves it). The demo city (demo.h), the domain tests' fixture
// (tests/domain_fixture.h) and the benchmarks' roll city (benchmarks/roll_city.h) each say what
// their city holds; the events are built and posted here, one way.
//
//   CityBuilder city(ledger, {.key_prefix = "demo-"});
//   FL_RETURN_IF_ERROR(city.DefinePrograms({{.id = "dibao", .standard_fen = 104500, ...}}));
//   FL_RETURN_IF_ERROR(city.OpenFunds({{.id = "F", .programs = {"dibao"}}}));
//   FL_RETURN_IF_ERROR(city.AddPeople(UniformPeople({.people = 1000}, ledger.vault()), 4000));
//   FL_RETURN_IF_ERROR(city.PayRoll({"ROLL-2025-01", "F", "general", 202501}, lines));
//
// Idempotency keys are the builder's prefix and a count (rolls: the prefix and the batch id),
// so the same calls on an empty ledger post the same entries. Not thread-safe: one thread
// calls a builder (the ledger itself may be shared).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"

namespace fundledger {

// What to post. Every member has a default (even `{}`), so that a designated initializer may
// name only what differs: -Wmissing-field-initializers accepts that.
struct ProgramSpec {
  std::string id{};
  std::string name{};  // empty: the id
  fb::ProgramCategory category = fb::ProgramCategory::dibao;
  int64_t standard_fen = 0;
  int64_t cap_fen = 0;
  int32_t effective_month = 202501;
  std::vector<std::string> excludes{};  // programs that may not be paid for the same month
  int32_t age_min_years = 0;
  int32_t age_max_years = 0;
};
// Paid monthly, but for temporary assistance (one-off).
fb::ProgramDefinedT ProgramDefinition(const ProgramSpec& spec);

struct FundSpec {
  std::string id{};
  std::string name{};  // empty: the id
  fb::FundKind kind = fb::FundKind::subsidy;
  std::string organisation = "bureau";
  std::vector<std::string> programs{};  // it pays
  std::vector<std::string> purposes{};  // lottery categories it may grant for
  std::string bank_account_token{};     // its dedicated account
};
fb::FundOpenedT FundOpening(const FundSpec& spec);

fb::AppropriatedT Appropriation(const std::string& fund, const std::string& bucket,
                                int64_t amount_fen, const std::string& source,
                                const std::string& document);
fb::EnrolledT Enrolment(const std::string& beneficiary, const std::string& program,
                        int64_t monthly_fen, int32_t from_month, const std::string& approval_doc,
                        int32_t to_month = 0);
// New terms from from_month on (an amount, an end, an age extension set on the result).
fb::EnrollmentChangedT EnrolmentChange(const std::string& beneficiary, const std::string& program,
                                       int64_t monthly_fen, int32_t from_month,
                                       const std::string& approval_doc, int32_t to_month = 0);
fb::TransferredBetweenFundsT Transfer(const std::string& from_fund, const std::string& from_bucket,
                                      const std::string& to_fund, const std::string& to_bucket,
                                      int64_t amount_fen, const std::string& document);

struct ExpenseSpec {
  std::string fund{};
  std::string bucket = "general";
  std::string payee{};
  fb::ExpenseClass expense_class = fb::ExpenseClass::charitable;
  std::string purpose{};
  int64_t amount_fen = 0;
  std::string document{};  // the invoice or contract
};
fb::ExpensedT Expenditure(const ExpenseSpec& spec);

struct DonationSpec {
  std::string fund{};
  std::string bucket = "general";  // another bucket: restricted to that purpose (定向)
  std::string donor{};             // empty: anonymous
  int64_t amount_fen = 0;
  std::string receipt_no{};
};
fb::DonationReceivedT Donation(const DonationSpec& spec);

fb::DisbursementBatchApprovedT RollApproval(const std::string& batch, const std::string& document);

// An 18-character resident ID number: region (6 digits), birth date (yyyymmdd), sequence
// (its last 3 digits), and the GB 11643 check character.
std::string ResidentIdNumber(const std::string& region, int32_t birth_date, int seq);

// A person to register and enrol. With personal data, the ledger commits to the ID number and
// bank account and keeps the data in its vault; without, `registration` must carry its
// id_commitment already (the benchmarks: no vault writes).
struct CityPerson {
  fb::BeneficiaryRegisteredT registration{};
  std::optional<PersonalData> personal{};
  std::vector<fb::EnrolledT> enrolments{};
};

// A city where everyone is enrolled in the same programs from the same month: people
// <id_prefix>0 .. <id_prefix>(people-1), of one region and birth month, one household each.
struct UniformCityOptions {
  size_t people = 0;
  std::string id_prefix = "B";
  std::vector<std::pair<std::string, int64_t>> programs{};  // program, monthly fen
  int32_t from_month = 202501;
  std::string region = "110105";
  int32_t birth_month = 196001;
};
// The people, without personal data: each commits to a made-up ID number through `vault`.
std::vector<CityPerson> UniformPeople(const UniformCityOptions& options, const Vault& vault);
// Lines 1..count paying <id_prefix>(first) .. <id_prefix>(first+count-1) `program` for
// `period`, `amount_fen` each.
std::vector<RollLine> UniformRollLines(const std::string& id_prefix, const std::string& program,
                                       int64_t amount_fen, int32_t period, size_t count,
                                       size_t first = 0);

struct RollSpec {
  std::string batch{};
  std::string fund{};
  std::string bucket = "general";
  int32_t period = 0;
  std::string document = "roll";          // the prepared roll's document
  std::string approval_doc = "approved";  // the checker's
};

class CityBuilder {
 public:
  struct Options {
    std::string key_prefix = "city-";
    Actor admin{"admin.zhao", fb::Role::admin};  // programs and funds
    Actor maker{"clerk.li", fb::Role::maker};    // money, people, rolls
    Actor checker{"checker.wang", fb::Role::checker};
  };
  CityBuilder(Ledger& ledger, Options options);

  // One submission, keyed <prefix><n>.
  Status Submit(const Actor& actor, std::vector<DomainEvent> events);
  Status DefinePrograms(const std::vector<ProgramSpec>& programs);  // one submission, as admin
  Status OpenFunds(const std::vector<FundSpec>& funds);             // one submission, as admin
  // Registers `people` and enrols them, `per_submission` people at a time. People with personal
  // data: their registrations in one submission (keyed <prefix>people-<index of the last>),
  // their enrolments in the next; without: both in one submission.
  Status AddPeople(std::vector<CityPerson> people, size_t per_submission);
  // Prepares the roll (keyed <prefix><batch>) and approves it.
  Status PayRoll(const RollSpec& roll, const std::vector<RollLine>& lines);

  const Options& options() const { return options_; }

 private:
  Status AddPeopleWithData(std::vector<CityPerson>& people, size_t begin, size_t end);

  Ledger& ledger_;
  Options options_;
  uint64_t submissions_ = 0;
};

// The roll benchmarks' city (benchmarks/roll_city.h, `fundledger roll-city`), posted as an
// admin: program dibao (kRollCityMonthlyFen a month), fund F holding money for years of rolls,
// and `people` beneficiaries B0..B(people-1) enrolled from 2025-01, kRollCityPeoplePerSubmission
// to a submission.
inline constexpr int64_t kRollCityMonthlyFen = 104'500;
inline constexpr size_t kRollCityPeoplePerSubmission = 4'000;
Status PostRollCity(Ledger& ledger, size_t people);

}  // namespace fundledger
