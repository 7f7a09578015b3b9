#include "api/city_builder.h"

#include <cassert>
#include <cstdio>

namespace fundledger {

fb::ProgramDefinedT ProgramDefinition(const ProgramSpec& spec) {
  fb::ProgramDefinedT p;
  p.program_id = spec.id;
  p.name = spec.name.empty() ? spec.id : spec.name;
  p.category = spec.category;
  p.period = spec.category == fb::ProgramCategory::temporary ? fb::PaymentPeriod::one_off
                                                             : fb::PaymentPeriod::monthly;
  p.standard_fen = spec.standard_fen;
  p.cap_fen = spec.cap_fen;
  p.effective_month = spec.effective_month;
  p.excludes = spec.excludes;
  p.age_min_years = spec.age_min_years;
  p.age_max_years = spec.age_max_years;
  return p;
}

fb::FundOpenedT FundOpening(const FundSpec& spec) {
  fb::FundOpenedT f;
  f.fund_id = spec.id;
  f.name = spec.name.empty() ? spec.id : spec.name;
  f.kind = spec.kind;
  f.organisation = spec.organisation;
  f.currency = "CNY";
  f.programs = spec.programs;
  f.purposes = spec.purposes;
  f.bank_account_token = spec.bank_account_token;
  return f;
}

fb::AppropriatedT Appropriation(const std::string& fund, const std::string& bucket,
                                int64_t amount_fen, const std::string& source,
                                const std::string& document) {
  fb::AppropriatedT a;
  a.fund_id = fund;
  a.bucket = bucket;
  a.amount_fen = amount_fen;
  a.source = source;
  a.document = document;
  return a;
}

namespace {

// Enrolled and EnrollmentChanged carry the same terms.
template <typename Terms>
Terms EnrolmentTerms(const std::string& beneficiary, const std::string& program,
                     int64_t monthly_fen, int32_t from_month, const std::string& approval_doc,
                     int32_t to_month) {
  Terms e;
  e.beneficiary_id = beneficiary;
  e.program_id = program;
  e.monthly_amount_fen = monthly_fen;
  e.from_month = from_month;
  e.to_month = to_month;
  e.approval_doc = approval_doc;
  return e;
}

}  // namespace

fb::EnrolledT Enrolment(const std::string& beneficiary, const std::string& program,
                        int64_t monthly_fen, int32_t from_month, const std::string& approval_doc,
                        int32_t to_month) {
  return EnrolmentTerms<fb::EnrolledT>(beneficiary, program, monthly_fen, from_month, approval_doc,
                                       to_month);
}

fb::EnrollmentChangedT EnrolmentChange(const std::string& beneficiary, const std::string& program,
                                       int64_t monthly_fen, int32_t from_month,
                                       const std::string& approval_doc, int32_t to_month) {
  return EnrolmentTerms<fb::EnrollmentChangedT>(beneficiary, program, monthly_fen, from_month,
                                                approval_doc, to_month);
}

fb::TransferredBetweenFundsT Transfer(const std::string& from_fund, const std::string& from_bucket,
                                      const std::string& to_fund, const std::string& to_bucket,
                                      int64_t amount_fen, const std::string& document) {
  fb::TransferredBetweenFundsT t;
  t.from_fund_id = from_fund;
  t.from_bucket = from_bucket;
  t.to_fund_id = to_fund;
  t.to_bucket = to_bucket;
  t.amount_fen = amount_fen;
  t.document = document;
  return t;
}

fb::ExpensedT Expenditure(const ExpenseSpec& spec) {
  fb::ExpensedT e;
  e.fund_id = spec.fund;
  e.bucket = spec.bucket;
  e.payee = spec.payee;
  e.class_ = spec.expense_class;
  e.purpose = spec.purpose;
  e.amount_fen = spec.amount_fen;
  e.document = spec.document;
  return e;
}

fb::DonationReceivedT Donation(const DonationSpec& spec) {
  fb::DonationReceivedT d;
  d.fund_id = spec.fund;
  d.bucket = spec.bucket;
  d.donor_id = spec.donor;
  d.amount_fen = spec.amount_fen;
  d.receipt_no = spec.receipt_no;
  return d;
}

fb::DisbursementBatchApprovedT RollApproval(const std::string& batch, const std::string& document) {
  fb::DisbursementBatchApprovedT ok;
  ok.batch_id = batch;
  ok.document = document;
  return ok;
}

std::string ResidentIdNumber(const std::string& region, int32_t birth_date, int seq) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  char body[32];
  int n = std::snprintf(body, sizeof body, "%s%08d%03d", region.c_str(), birth_date, seq % 1000);
  assert(n == 17);
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + kCheck[sum % 11];
}

std::vector<CityPerson> UniformPeople(const UniformCityOptions& options, const Vault& vault) {
  std::vector<CityPerson> people(options.people);
  for (size_t i = 0; i < options.people; ++i) {
    const std::string id = options.id_prefix + std::to_string(i);
    fb::BeneficiaryRegisteredT& b = people[i].registration;
    b.beneficiary_id = id;
    b.household_id = "H" + std::to_string(i);
    b.region_code = options.region;
    Hash commitment = vault.IdLookup("id-" + std::to_string(i));  // unique per person
    b.id_commitment.assign(commitment.begin(), commitment.end());
    b.birth_month = options.birth_month;
    b.registered_date = options.from_month * 100 + 1;
    for (const auto& [program, monthly_fen] : options.programs)
      people[i].enrolments.push_back(Enrolment(id, program, monthly_fen, options.from_month, "a"));
  }
  return people;
}

std::vector<RollLine> UniformRollLines(const std::string& id_prefix, const std::string& program,
                                       int64_t amount_fen, int32_t period, size_t count,
                                       size_t first) {
  std::vector<RollLine> lines;
  lines.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    lines.push_back({static_cast<uint32_t>(i + 1), id_prefix + std::to_string(first + i), program,
                     period, amount_fen});
  }
  return lines;
}

CityBuilder::CityBuilder(Ledger& ledger, Options options)
    : ledger_(ledger), options_(std::move(options)) {}

Status CityBuilder::Submit(const Actor& actor, std::vector<DomainEvent> events) {
  std::string key = options_.key_prefix + std::to_string(++submissions_);
  return ledger_.Submit(actor, key, std::move(events)).status();
}

Status CityBuilder::DefinePrograms(const std::vector<ProgramSpec>& programs) {
  std::vector<DomainEvent> events;
  for (const ProgramSpec& p : programs) events.emplace_back(ProgramDefinition(p));
  return Submit(options_.admin, std::move(events));
}

Status CityBuilder::OpenFunds(const std::vector<FundSpec>& funds) {
  std::vector<DomainEvent> events;
  for (const FundSpec& f : funds) events.emplace_back(FundOpening(f));
  return Submit(options_.admin, std::move(events));
}

Status CityBuilder::AddPeople(std::vector<CityPerson> people, size_t per_submission) {
  assert(per_submission > 0);
  for (size_t begin = 0; begin < people.size(); begin += per_submission) {
    const size_t end = std::min(people.size(), begin + per_submission);
    if (people[begin].personal) {
      FL_RETURN_IF_ERROR(AddPeopleWithData(people, begin, end));
      continue;
    }
    std::vector<DomainEvent> events;
    for (size_t i = begin; i < end; ++i) {
      assert(!people[i].personal && "a submission's people all have personal data, or none");
      events.emplace_back(std::move(people[i].registration));
      for (fb::EnrolledT& e : people[i].enrolments) events.emplace_back(std::move(e));
    }
    FL_RETURN_IF_ERROR(Submit(options_.maker, std::move(events)));
  }
  return Status::Ok();
}

Status CityBuilder::AddPeopleWithData(std::vector<CityPerson>& people, size_t begin, size_t end) {
  std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> registrations;
  std::vector<DomainEvent> enrolments;
  for (size_t i = begin; i < end; ++i) {
    assert(people[i].personal && "a submission's people all have personal data, or none");
    registrations.emplace_back(std::move(people[i].registration), std::move(*people[i].personal));
    for (fb::EnrolledT& e : people[i].enrolments) enrolments.emplace_back(std::move(e));
  }
  std::string key = options_.key_prefix + "people-" + std::to_string(end - 1);
  FL_RETURN_IF_ERROR(
      ledger_.RegisterBeneficiaries(options_.maker, key, std::move(registrations)).status());
  if (enrolments.empty()) return Status::Ok();
  return Submit(options_.maker, std::move(enrolments));
}

Status CityBuilder::PayRoll(const RollSpec& roll, const std::vector<RollLine>& lines) {
  FL_RETURN_IF_ERROR(ledger_
                         .PrepareBatch(options_.maker, options_.key_prefix + roll.batch, roll.batch,
                                       roll.fund, roll.bucket, roll.period, roll.document, lines)
                         .status());
  return Submit(options_.checker, {RollApproval(roll.batch, roll.approval_doc)});
}

Status PostRollCity(Ledger& ledger, size_t people) {
  const Actor admin{"admin", fb::Role::admin};
  CityBuilder city(ledger, {.key_prefix = "roll-city-", .admin = admin, .maker = admin});
  fb::AppropriatedT money =  // twice: 20 billion yuan, some fifteen million lines
      Appropriation("F", "general", 1'000'000'000'000, "treasury", "budget");
  FL_RETURN_IF_ERROR(city.Submit(
      admin,
      {ProgramDefinition(
           {.id = "dibao", .standard_fen = kRollCityMonthlyFen, .cap_fen = kRollCityMonthlyFen}),
       FundOpening({.id = "F", .programs = {"dibao"}}), money, money}));
  UniformCityOptions options{.people = people, .programs = {{"dibao", kRollCityMonthlyFen}}};
  return city.AddPeople(UniformPeople(options, ledger.vault()), kRollCityPeoplePerSubmission);
}

}  // namespace fundledger
