// Lists and searches the console reads: batches by status, fund and month; programs; people by
// ID number (through the keyed commitment: the number itself is never compared or stored).
// Every list is bounded: at most kListRowsMax rows, `after` pages on by id.
#include <boost/json.hpp>

#include "api/service.h"
#include "crypto/encoding.h"
#include "ledger/vault.h"
#include "projections/disclosure.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr size_t kListRowsMax = 500;

}  // namespace

void Service::AddListingRoutes() {
  AddGet("/v1/disbursement-batches", kReaders,
         "Batches, newest month first: filter by status (prepared, approved, rejected), fund and "
         "month; at most 500, `after` pages on",
         {{"status", "prepared, approved or rejected"},
          {"fund_id", "the fund"},
          {"period", "the month, YYYY-MM"},
          {"after", "the last batch_id of the previous page"}},
         &Service::ListBatches);
  AddGet("/v1/programs", kReaders | kCharity, "Programs: id, name, category, period", {},
         &Service::ListPrograms);
  AddGet("/v1/beneficiaries", kAdmin | kMaker | kChecker,
         "Find a person by ID number (through its keyed commitment) or by name (through the "
         "vault, at most 50): the id, region, masked name and ID number; each search is recorded "
         "in the access log",
         {{"id_number", "the 18-character resident ID number"},
          {"q", "part of a name, at least two characters (instead of id_number)"}},
         &Service::FindBeneficiaries);
}

HttpResponse Service::ListBatches(Context& c) {
  std::string status = Param(c.params, "status"), fund = Param(c.params, "fund_id");
  std::string period_text = Param(c.params, "period"), after = Param(c.params, "after");
  int32_t period = 0;
  if (!period_text.empty()) {
    Result<int32_t> p = ParseMonth(period_text);
    if (!p.ok()) return ErrorResponse(Status(p.status()).WithField("period"));
    period = *p;
  }
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    json::array rows;
    for (auto it = s.batches.upper_bound(after); it != s.batches.end(); ++it) {
      const auto& [id, b] = *it;
      if ((!status.empty() && BatchStatusName(b.status) != status) ||
          (!fund.empty() && b.fund != fund) || (period != 0 && b.period != period))
        continue;
      if (rows.size() == kListRowsMax) break;
      rows.push_back(json::object{{"batch_id", id},
                                  {"status", BatchStatusName(b.status)},
                                  {"maker", b.maker},
                                  {"fund_id", b.fund},
                                  {"bucket", b.bucket},
                                  {"period", FormatMonth(b.period)},
                                  {"line_count", b.lines.size()},
                                  {"total_fen", b.total_fen},
                                  {"total", FormatFen(b.total_fen)}});
    }
    bool more = rows.size() == kListRowsMax;
    return json::object{{"batches", std::move(rows)}, {"more", more}};
  });
}

HttpResponse Service::ListPrograms(Context&) {
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    json::array rows;
    for (const auto& [id, p] : s.programs) {
      if (rows.size() == kListRowsMax) break;
      rows.push_back(json::object{{"program_id", id},
                                  {"name", p.name},
                                  {"category", fb::EnumNameProgramCategory(p.category)},
                                  {"period", fb::EnumNamePaymentPeriod(p.period)}});
    }
    return json::object{{"programs", std::move(rows)}};
  });
}

HttpResponse Service::FindBeneficiaries(Context& c) {
  if (c.params.contains("q") && !c.params.contains("id_number"))
    return SearchBeneficiariesByName(c);
  std::string number = Param(c.params, "id_number");
  Status valid = CheckIdNumber(number);
  if (!valid.ok()) return ErrorResponse(Status(valid).WithField("id_number"));
  if (!options_.read_only_reason.empty())
    return ErrorResponse(Status(StatusCode::kOverloaded, "the store is open read-only"));
  Result<std::optional<std::string>> found = ledger_.vault().FindPerson(ledger_.log(), number);
  if (!found.ok()) return ErrorResponse(found.status());
  const std::string id = found->value_or("");
  json::array rows;
  if (!id.empty()) {
    Result<PersonalData> person = ledger_.ReadPersonalData(id);
    std::string region = ledger_.domain().Read([&](const DomainState& s) {
      auto it = s.beneficiaries.find(id);
      return it == s.beneficiaries.end() ? std::string() : it->second.region;
    });
    rows.push_back(MaskedPerson(id, region, person.ok() ? &*person : nullptr));
  }
  if (Status recorded = RecordSearch(c.who, "id_number", rows.size()); !recorded.ok())
    return ErrorResponse(recorded);
  return JsonResponse(200, json::serialize(json::object{{"beneficiaries", std::move(rows)}}));
}

}  // namespace fundledger
