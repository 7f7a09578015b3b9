#include "api/open_data.h"

#include <boost/json.hpp>
#include <regex>

#include "api/entry_json.h"
#include "ledger/domain.h"

namespace fundledger {
namespace json = boost::json;
namespace {

// A decimal amount as a JSON number, written from fen without floating point: a marked string
// that Finish() turns into a bare number.
json::value YuanNumber(int64_t fen) { return json::value("\x01num:" + FormatFen(fen)); }

std::string Finish(const json::value& v) {
  std::string text = json::serialize(v);
  static const std::regex marked("\"\\\\u0001num:(-?[0-9]+\\.[0-9]{2})\"");
  return std::regex_replace(text, marked, "$1") + "\n";
}

std::string DateOf(int64_t ms) { return IsoTimeMs(ms).substr(0, 10); }

// Walks the log with the domain, calling fn(index, timestamp, event, state before).
Status Walk(
    const LogSource& log, uint64_t size,
    const std::function<void(uint64_t, int64_t, const DomainEvent&, const DomainState&)>& fn) {
  Domain domain({});
  ApplyContext context;
  return log.ScanEntries(0, size, [&](uint64_t i, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain.Read([&](const DomainState& s) {
        fn(i, e.timestamp_ms, ev, s);
        return 0;
      });
    }
    return domain.ApplyCommitted(i, bytes, context);
  });
}

std::string OrgOf(const DomainState& s, const std::string& fund) {
  auto it = s.funds.find(fund);
  return it == s.funds.end() ? fund : it->second.organisation;
}

}  // namespace

Result<std::string> Giving360Json(const LogSource& log, uint64_t size, const std::string& origin) {
  json::array grants;
  std::string prefix = "FL-" + origin;
  Status s =
      Walk(log, size, [&](uint64_t i, int64_t ts, const DomainEvent& ev, const DomainState& st) {
        if (auto* g = std::get_if<fb::LotteryGrantAwardedT>(&ev)) {
          grants.push_back(json::object{
              {"id", prefix + "-" + std::to_string(i)},
              {"title", g->project_id},
              {"description", "Welfare-lottery public-welfare grant, category " + g->category},
              {"currency", "CNY"},
              {"amountAwarded", YuanNumber(g->amount_fen)},
              {"awardDate", DateOf(ts)},
              {"fundingOrganization",
               json::array{json::object{{"id", prefix + "-" + OrgOf(st, g->from_fund_id)},
                                        {"name", OrgOf(st, g->from_fund_id)}}}},
              {"recipientOrganization",
               json::array{json::object{{"id", prefix + "-" + OrgOf(st, g->to_fund_id)},
                                        {"name", OrgOf(st, g->to_fund_id)}}}},
              {"dataSource", "fundledger entry " + std::to_string(i)}});
        } else if (auto* ok = std::get_if<fb::DisbursementBatchApprovedT>(&ev)) {
          auto b = st.batches.find(ok->batch_id);
          if (b == st.batches.end()) return;
          grants.push_back(json::object{
              {"id", prefix + "-" + std::to_string(i)},
              {"title", "Payments to individuals, roll " + ok->batch_id},
              {"description", std::to_string(b->second.lines.size()) + " payments for " +
                                  FormatMonth(b->second.period) +
                                  " (individual recipients anonymised)"},
              {"currency", "CNY"},
              {"amountAwarded", YuanNumber(b->second.total_fen)},
              {"awardDate", DateOf(ts)},
              {"fundingOrganization",
               json::array{json::object{{"id", prefix + "-" + OrgOf(st, b->second.fund)},
                                        {"name", OrgOf(st, b->second.fund)}}}},
              {"recipientIndividual", json::object{{"id", prefix + "-IND-" + ok->batch_id},
                                                   {"name", "Individual Recipient"}}},
              {"dataSource", "fundledger entry " + std::to_string(i)}});
        }
      });
  if (!s.ok()) return s;
  return Finish(json::object{{"grants", std::move(grants)}});
}

Result<std::string> IatiTransactionsJson(const LogSource& log, uint64_t size,
                                         const std::string& origin) {
  json::array tx;
  auto add = [&](uint64_t i, int64_t ts, const char* code, int64_t fen, const std::string& provider,
                 const std::string& receiver, const std::string& description) {
    tx.push_back(json::object{{"ref", "FL-" + origin + "-" + std::to_string(i)},
                              {"transaction-type", json::object{{"code", code}}},
                              {"transaction-date", json::object{{"iso-date", DateOf(ts)}}},
                              {"value", json::object{{"currency", "CNY"},
                                                     {"value-date", DateOf(ts)},
                                                     {"amount", YuanNumber(fen)}}},
                              {"provider-org", json::object{{"narrative", provider}}},
                              {"receiver-org", json::object{{"narrative", receiver}}},
                              {"description", json::object{{"narrative", description}}}});
  };
  Status s =
      Walk(log, size, [&](uint64_t i, int64_t ts, const DomainEvent& ev, const DomainState& st) {
        if (auto* a = std::get_if<fb::AppropriatedT>(&ev)) {
          add(i, ts, "1", a->amount_fen, a->source, OrgOf(st, a->fund_id),
              "appropriation to " + a->fund_id);
        } else if (auto* d = std::get_if<fb::DonationReceivedT>(&ev)) {
          add(i, ts, "1", d->amount_fen, d->donor_id.empty() ? "anonymous donor" : "donor",
              OrgOf(st, d->fund_id),
              "donation to " + d->fund_id +
                  (d->bucket == kGeneralBucket ? "" : " restricted to " + d->bucket));
        } else if (auto* g = std::get_if<fb::LotteryGrantAwardedT>(&ev)) {
          add(i, ts, "3", g->amount_fen, OrgOf(st, g->from_fund_id), OrgOf(st, g->to_fund_id),
              "lottery grant " + g->project_id);
        } else if (auto* ok = std::get_if<fb::DisbursementBatchApprovedT>(&ev)) {
          auto b = st.batches.find(ok->batch_id);
          if (b != st.batches.end()) {
            add(i, ts, "3", b->second.total_fen, OrgOf(st, b->second.fund), "individual recipients",
                "roll " + ok->batch_id + " for " + FormatMonth(b->second.period));
          }
        } else if (auto* x = std::get_if<fb::ExpensedT>(&ev)) {
          add(i, ts, "4", x->amount_fen, OrgOf(st, x->fund_id), x->payee,
              std::string(fb::EnumNameExpenseClass(x->class_)) + " expenditure: " + x->purpose);
        }
      });
  if (!s.ok()) return s;
  return Finish(json::object{{"transactions", std::move(tx)}});
}

}  // namespace fundledger
