#include <boost/json.hpp>

#include "api/event_json.h"
#include "api/roll_parser.h"
#include "api/service.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// Every fund id an event names, for charity scoping.
std::vector<std::string> FundsOf(const DomainEvent& e) {
  return std::visit(
      [](const auto& ev) -> std::vector<std::string> {
        using T = std::decay_t<decltype(ev)>;
        std::vector<std::string> out;
        if constexpr (requires { ev.fund_id; }) out.push_back(ev.fund_id);
        if constexpr (requires { ev.from_fund_id; }) out.push_back(ev.from_fund_id);
        if constexpr (requires { ev.to_fund_id; }) out.push_back(ev.to_fund_id);
        (void)sizeof(T);
        return out;
      },
      e);
}

}  // namespace

HttpResponse Service::Submit(Context& c, std::vector<DomainEvent> events,
                             std::vector<VaultWrite> vault) {
  for (const DomainEvent& e : events) {
    Status scope = CheckCharityScope(c.who, e);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  Result<AppendResult> r = ledger_.Submit(Actor{c.who.actor, c.who.role}, c.request.idempotency_key,
                                          std::move(events), std::move(vault));
  if (!r.ok()) return ErrorResponse(r.status());
  json::object o;
  o["first_index"] = r->first_index;
  o["count"] = r->count;
  o["replayed"] = r->replayed;
  o["log_size"] = ledger_.log().size();
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(o));
}

Status Service::CheckFundScope(const Principal& who, const std::string& fund) const {
  if (who.role != fb::Role::charity) return Status::Ok();
  std::string org = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.funds.find(fund);
    return it == s.funds.end() ? std::string() : it->second.organisation;
  });
  if (org != who.org) {
    return Status(StatusCode::kPermissionDenied,
                  "fund '" + fund + "' does not belong to organisation '" + who.org + "'");
  }
  return Status::Ok();
}

Status Service::CheckCharityScope(const Principal& who, const DomainEvent& event) const {
  for (const std::string& fund : FundsOf(event)) FL_RETURN_IF_ERROR(CheckFundScope(who, fund));
  return Status::Ok();
}

HttpResponse Service::Command(Context& c, fb::EventType type) {
  std::string body = c.request.body;
  if (!c.params.empty()) {
    // Path parameters name fields of the event ("/v1/funds/{fund_id}/close").
    boost::system::error_code ec;
    json::value v = json::parse(body.empty() ? "{}" : body, ec);
    if (ec || !v.is_object())
      return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
    for (const auto& [name, value] : c.params) {
      if (name.find('_') != std::string::npos) v.as_object()[name] = value;
    }
    body = json::serialize(v);
  }
  Result<DomainEvent> event = EventFromJson(type, body);
  if (!event.ok()) return ErrorResponse(event.status());
  return Submit(c, {std::move(event).value()});
}

HttpResponse Service::RegisterBeneficiary(Context& c) {
  boost::system::error_code ec;
  json::value v = json::parse(c.request.body, ec);
  if (ec || !v.is_object())
    return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
  json::object& o = v.as_object();
  PersonalData person;
  if (json::value* p = o.if_contains("person"); p != nullptr) {
    if (!p->is_object())
      return ErrorResponse(InvalidArgument("person must be an object").WithField("person"));
    auto str = [&](const char* k) {
      const json::value* f = p->as_object().if_contains(k);
      return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    person = PersonalData{str("name"), str("id_number"), str("bank_account"), str("phone")};
    o.erase("person");
  } else {
    return ErrorResponse(
        InvalidArgument("person {name, id_number, bank_account, phone} is required")
            .WithField("person"));
  }
  // Commitments are computed here, never sent: placeholders satisfy the field checks.
  o["id_commitment"] = json::array(32, 0);
  Result<DomainEvent> event =
      EventFromJson(fb::EventType::BeneficiaryRegistered, json::serialize(o));
  if (!event.ok()) return ErrorResponse(event.status());
  Result<AppendResult> r =
      ledger_.RegisterBeneficiary(Actor{c.who.actor, c.who.role}, c.request.idempotency_key,
                                  std::get<fb::BeneficiaryRegisteredT>(*event), person);
  if (!r.ok()) return ErrorResponse(r.status());
  json::object out;
  out["first_index"] = r->first_index;
  out["count"] = r->count;
  out["replayed"] = r->replayed;
  out["log_size"] = ledger_.log().size();
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(out));
}

HttpResponse Service::PrepareRoll(Context& c) {
  std::string batch_id = Param(c.params, "batch_id"), fund = Param(c.params, "fund_id");
  std::string bucket = Param(c.params, "bucket", std::string(kGeneralBucket));
  if (!IsValidId(batch_id))
    return ErrorResponse(
        InvalidArgument("query parameter batch_id is required").WithField("batch_id"));
  if (!IsValidId(fund))
    return ErrorResponse(
        InvalidArgument("query parameter fund_id is required").WithField("fund_id"));
  Result<int32_t> period = ParseMonth(Param(c.params, "period"));
  if (!period.ok()) return ErrorResponse(Status(period.status()).WithField("period"));
  Status scope = CheckFundScope(c.who, fund);
  if (!scope.ok()) return ErrorResponse(scope);
  Result<ParsedRoll> roll =
      ParseRoll(c.request.body, DetectRollFormat(c.request.content_type, c.request.body), *period);
  if (!roll.ok()) return ErrorResponse(roll.status());
  if (!roll->errors.empty()) {
    Status first = roll->errors.front();
    return ErrorResponse(InvalidArgument(std::to_string(roll->errors.size()) + " of " +
                                         std::to_string(roll->errors.size() + roll->lines.size()) +
                                         " lines are malformed; nothing was posted. First: line " +
                                         std::to_string(first.line()) + ": " + first.message())
                             .WithLine(first.line())
                             .WithDetails(roll->errors));
  }
  Result<AppendResult> r =
      ledger_.PrepareBatch(Actor{c.who.actor, c.who.role}, c.request.idempotency_key, batch_id,
                           fund, bucket, *period, Param(c.params, "document"), roll->lines);
  if (!r.ok()) return ErrorResponse(r.status());
  int64_t total = 0;
  for (const RollLine& l : roll->lines) total += l.amount_fen;
  json::object o;
  o["batch_id"] = batch_id;
  o["lines"] = roll->lines.size();
  o["total_fen"] = total;
  o["total"] = FormatFen(total);
  o["first_index"] = r->first_index;
  o["count"] = r->count;
  o["replayed"] = r->replayed;
  json::array ignored;
  for (const std::string& col : roll->ignored_columns) ignored.emplace_back(col);
  o["ignored_columns"] = std::move(ignored);
  return JsonResponse(r->replayed ? 200 : 201, json::serialize(o));
}

HttpResponse Service::Decide(Context& c, bool approve) {
  boost::system::error_code ec;
  json::value v = json::parse(c.request.body.empty() ? "{}" : c.request.body, ec);
  if (ec || !v.is_object())
    return ErrorResponse(InvalidArgument("the request body must be a JSON object"));
  auto str = [&](const char* k) {
    const json::value* f = v.as_object().if_contains(k);
    return f != nullptr && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  std::string batch = c.params["batch_id"];
  std::string fund = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.batches.find(batch);
    return it == s.batches.end() ? std::string() : it->second.fund;
  });
  if (!fund.empty()) {
    Status scope = CheckFundScope(c.who, fund);
    if (!scope.ok()) return ErrorResponse(scope);
  }
  if (approve) {
    fb::DisbursementBatchApprovedT e;
    e.batch_id = batch;
    e.document = str("document");
    Status fields = CheckEventFields(e);
    if (!fields.ok()) return ErrorResponse(fields);
    return Submit(c, {e});
  }
  fb::DisbursementBatchRejectedT e;
  e.batch_id = batch;
  e.reason = str("reason");
  Status fields = CheckEventFields(e);
  if (!fields.ok()) return ErrorResponse(fields);
  return Submit(c, {e});
}
}  // namespace fundledger
