#include "api/open_data.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <regex>

#include "api/disclosure_render.h"
#include "ledger/domain.h"
#include "projections/business_date.h"

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

std::string DateText(int64_t business_ms) { return FormatDate(ChinaDateNumber(business_ms)); }

// Walks the log with `domain` (fresh), calling fn(index, business time, event, state before).
Status Walk(
    const LogSource& log, uint64_t size, Domain& domain,
    const std::function<void(uint64_t, int64_t, const DomainEvent&, const DomainState&)>& fn) {
  ApplyContext context;
  return log.ScanEntries(0, size, [&](uint64_t i, ByteView bytes) -> Status {
    FL_ASSIGN_OR_RETURN(EntryView e, DecodeEntry(bytes));
    if (IsDomainEvent(e.event_type)) {
      FL_ASSIGN_OR_RETURN(DomainEvent ev, DecodeEvent(e.event_type, e.payload));
      domain.Read([&](const DomainState& s) {
        fn(i, BusinessTimeMs(ev, s, e.timestamp_ms), ev, s);
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

// Every character of a URL path but the unreserved ones and '/' percent-encoded (RFC 3986).
std::string PercentEncodedPath(std::string_view text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// The identifiers of open-data records (open_data.h, "Identifiers").
class Identifiers {
 public:
  Identifiers(const OpenDataPublisher& p, const std::string& origin)
      : p_(p),
        prefix_(p.giving_prefix.empty() ? "360G-" + p.org_id : p.giving_prefix),
        base_(p.base_url.empty() ? "https://" + PercentEncodedPath(origin) : p.base_url) {}
  // 360Giving: an organisation of the ledger.
  std::string Organisation(const std::string& organisation) const {
    if (!p_.organisation.empty() && organisation == p_.organisation) return p_.org_id;
    return prefix_ + "-ORG-" + organisation;
  }
  std::string Grant(const std::string& local) const { return prefix_ + "-" + local; }
  std::string Individuals(const std::string& local) const { return prefix_ + "-IND-" + local; }
  std::string Source(uint64_t index) const {
    return base_ + "/v1/entries/" + std::to_string(index);
  }
  const std::string& org_id() const { return p_.org_id; }
  // IATI: the publisher's ref for its own organisation; empty for any other.
  std::string IatiRef(const std::string& organisation) const {
    return !p_.organisation.empty() && organisation == p_.organisation ? p_.org_id : "";
  }

 private:
  const OpenDataPublisher& p_;
  std::string prefix_, base_;
};

// 360Giving's grantToIndividualsReason and grantToIndividualsPurpose codes for a program.
std::pair<const char*, const char*> IndividualsCodes(fb::ProgramCategory c) {
  using C = fb::ProgramCategory;
  switch (c) {
    case C::dibao:
    case C::tekun:
      return {"GTIR010", "GTIP070"};  // financial hardship; food and essential items
    case C::temporary:
      return {"GTIR100", "GTIP170"};  // emergency or crisis; exceptional costs
    case C::medical:
      return {"GTIR030", "GTIP120"};  // health; health, care and wellbeing services
    case C::disability_living:
      return {"GTIR020", "GTIP070"};  // disability; essential items
    case C::disability_care:
      return {"GTIR020", "GTIP120"};  // disability; care services
    case C::orphan:
      return {"GTIR090", "GTIP070"};  // marginalised or vulnerable; essential items
    default:
      return {"GTIR010", "GTIP010"};  // financial hardship; unrestricted
  }
}

json::array OrgArray(const std::string& id, const std::string& name) {
  return json::array{json::object{{"id", id}, {"name", name}}};
}

// The payments of an approved roll, per program and county: one grant to individuals each.
void RollGrants(const Identifiers& ids, uint64_t i, int64_t at, const std::string& batch,
                const BatchState& b, const DomainState& s, json::array& grants) {
  struct Group {
    int64_t fen = 0;
    int64_t payments = 0;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;  // (program, county)
  for (const BatchLine& l : b.lines) {
    auto ben = s.beneficiaries.find(s.names[l.beneficiary]);
    Group& g = groups[{s.names[l.program], ben == s.beneficiaries.end() ? "" : ben->second.region}];
    g.fen += l.amount_fen;  // a roll's total was checked when it was prepared
    g.payments++;
  }
  const std::string funder = OrgOf(s, b.fund);
  for (const auto& [key, g] : groups) {
    const auto& [program, county] = key;
    auto prog = s.programs.find(program);
    std::string name = prog == s.programs.end() ? program : prog->second.name;
    auto [reason, purpose] = IndividualsCodes(prog == s.programs.end() ? fb::ProgramCategory::other
                                                                       : prog->second.category);
    std::string local = batch + "-" + program + "-" + (county.empty() ? "none" : county);
    json::object grant{
        {"id", ids.Grant(local)},
        {"title", name + " " + FormatMonth(b.period) + " (" + county + ")"},
        {"description", std::to_string(g.payments) + " payments of " + program + " for " +
                            FormatMonth(b.period) + " to individuals in county " + county +
                            ", roll " + batch + ", aggregated: no individual is identified"},
        {"currency", "CNY"},
        {"amountAwarded", YuanNumber(g.fen)},
        {"awardDate", DateText(at)},
        {"fundingOrganization", OrgArray(ids.Organisation(funder), funder)},
        {"recipientIndividual",
         json::object{{"id", ids.Individuals(local)}, {"name", "Individual Recipient"}}},
        {"toIndividualsDetails",
         json::object{{"primaryGrantReason", reason}, {"grantPurpose", json::array{purpose}}}},
        {"grantProgramme", json::array{json::object{{"code", program}, {"title", name}}}},
        {"dataSource", ids.Source(i)}};
    if (!county.empty()) {
      grant["beneficiaryLocation"] =
          json::array{json::object{{"id", county}, {"name", county}, {"countryCode", "CN"}}};
    }
    grants.push_back(std::move(grant));
  }
}

// One IATI transaction of a fund's activity.
struct IatiTransaction {
  const char* type = "1";  // TransactionType codelist
  int64_t at_ms = 0;       // business time
  int64_t fen = 0;
  std::string description, provider, receiver;
};

std::string NarrativeElement(const char* name, const std::string& text,
                             const std::string& attributes = "") {
  return std::string("<") + name + attributes + "><narrative>" + HtmlEscape(text) +
         "</narrative></" + name + ">";
}

std::string TransactionXml(const IatiTransaction& t) {
  const std::string date = DateText(t.at_ms);
  return "<transaction><transaction-type code=\"" + std::string(t.type) +
         "\"/><transaction-date iso-date=\"" + date + "\"/><value value-date=\"" + date + "\">" +
         FormatFen(t.fen) + "</value>" + NarrativeElement("description", t.description) +
         NarrativeElement("provider-org", t.provider) +
         NarrativeElement("receiver-org", t.receiver) + "</transaction>\n";
}

const char* OrganisationTypeOf(fb::FundKind kind) {  // OrganisationType codelist
  switch (kind) {
    case fb::FundKind::charity:
      return "60";  // foundation (基金会)
    case fb::FundKind::trust:
      return "22";  // national NGO
    default:
      return "11";  // local government
  }
}

}  // namespace

Status CheckPublisher(const OpenDataPublisher& p) {
  static const std::regex org_id("[A-Z]{2}-[A-Z]+-[A-Za-z0-9-]+");
  static const std::regex prefix("360G-[A-Za-z0-9-]+");
  if (p.org_id.empty())
    return Conflict(
               "open data needs the publisher's org-id (serve --org-id, e.g. CN-USCI- and the "
               "统一社会信用代码)")
        .WithField("org_id");
  if (!std::regex_match(p.org_id, org_id))
    return InvalidArgument("the org-id '" + p.org_id +
                           "' is not a registration agency and a number (e.g. CN-USCI-...)")
        .WithField("org_id");
  if (!p.giving_prefix.empty() && !std::regex_match(p.giving_prefix, prefix))
    return InvalidArgument("the 360Giving prefix '" + p.giving_prefix +
                           "' must be 360G- and letters, digits or '-'")
        .WithField("giving_prefix");
  return Status::Ok();
}

Result<std::string> Giving360Json(const LogSource& log, uint64_t size, const std::string& origin,
                                  const OpenDataPublisher& publisher) {
  FL_RETURN_IF_ERROR(CheckPublisher(publisher));
  const Identifiers ids(publisher, origin);
  json::array grants;
  Domain domain({});
  Status s = Walk(
      log, size, domain, [&](uint64_t i, int64_t at, const DomainEvent& ev, const DomainState& st) {
        if (auto* g = std::get_if<fb::LotteryGrantAwardedT>(&ev)) {
          const std::string from = OrgOf(st, g->from_fund_id), to = OrgOf(st, g->to_fund_id);
          grants.push_back(json::object{
              {"id", ids.Grant(std::to_string(i))},
              {"title", g->project_id},
              {"description", "Welfare-lottery public-welfare grant, category " + g->category},
              {"currency", "CNY"},
              {"amountAwarded", YuanNumber(g->amount_fen)},
              {"awardDate", DateText(at)},
              {"fundingOrganization", OrgArray(ids.Organisation(from), from)},
              {"recipientOrganization", OrgArray(ids.Organisation(to), to)},
              {"dataSource", ids.Source(i)}});
        } else if (auto* ok = std::get_if<fb::DisbursementBatchApprovedT>(&ev)) {
          auto b = st.batches.find(ok->batch_id);
          if (b != st.batches.end()) RollGrants(ids, i, at, ok->batch_id, b->second, st, grants);
        }
      });
  if (!s.ok()) return s;
  return Finish(json::object{{"version", "1.4"}, {"grants", std::move(grants)}});
}

Result<std::string> IatiActivitiesXml(const LogSource& log, uint64_t size,
                                      const std::string& origin,
                                      const OpenDataPublisher& publisher) {
  FL_RETURN_IF_ERROR(CheckPublisher(publisher));
  const Identifiers ids(publisher, origin);
  std::map<std::string, std::vector<IatiTransaction>> by_fund;
  std::map<std::string, int64_t> opened_ms;
  Domain domain({});
  Status s = Walk(
      log, size, domain, [&](uint64_t, int64_t at, const DomainEvent& ev, const DomainState& st) {
        auto add = [&](const std::string& fund, const char* type, int64_t fen,
                       const std::string& provider, const std::string& receiver,
                       const std::string& what) {
          by_fund[fund].push_back({type, at, fen, what, provider, receiver});
        };
        if (auto* f = std::get_if<fb::FundOpenedT>(&ev)) {
          opened_ms.emplace(f->fund_id, at);
        } else if (auto* a = std::get_if<fb::AppropriatedT>(&ev)) {
          add(a->fund_id, "1", a->amount_fen, a->source, OrgOf(st, a->fund_id),
              "appropriation: " + a->document);
        } else if (auto* d = std::get_if<fb::DonationReceivedT>(&ev)) {
          add(d->fund_id, "1", d->amount_fen, d->donor_id.empty() ? "anonymous donor" : "donor",
              OrgOf(st, d->fund_id),
              "donation" + (d->bucket == kGeneralBucket ? "" : " restricted to " + d->bucket));
        } else if (auto* g = std::get_if<fb::LotteryGrantAwardedT>(&ev)) {
          const std::string from = OrgOf(st, g->from_fund_id), to = OrgOf(st, g->to_fund_id);
          add(g->from_fund_id, "3", g->amount_fen, from, to, "lottery grant " + g->project_id);
          add(g->to_fund_id, "1", g->amount_fen, from, to, "lottery grant " + g->project_id);
        } else if (auto* t = std::get_if<fb::TransferredBetweenFundsT>(&ev)) {
          const std::string from = OrgOf(st, t->from_fund_id), to = OrgOf(st, t->to_fund_id);
          add(t->from_fund_id, "3", t->amount_fen, from, to, "transfer to " + t->to_fund_id);
          add(t->to_fund_id, "1", t->amount_fen, from, to, "transfer from " + t->from_fund_id);
        } else if (auto* ok = std::get_if<fb::DisbursementBatchApprovedT>(&ev)) {
          auto b = st.batches.find(ok->batch_id);
          if (b == st.batches.end()) return;
          add(b->second.fund, "3", b->second.total_fen, OrgOf(st, b->second.fund),
              "individual recipients",
              "roll " + ok->batch_id + " for " + FormatMonth(b->second.period));
        } else if (auto* x = std::get_if<fb::ExpensedT>(&ev)) {
          add(x->fund_id, "4", x->amount_fen, OrgOf(st, x->fund_id), x->payee,
              std::string(fb::EnumNameExpenseClass(x->class_)) + " expenditure: " + x->purpose);
        }
      });
  if (!s.ok()) return s;
  // The funds as the log leaves them (names, organisations, closed or not).
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\">\n";
  domain.Read([&](const DomainState& st) {
    for (const auto& [fund, f] : st.funds) {
      xml += "<iati-activity default-currency=\"CNY\" xml:lang=\"zh\">\n<iati-identifier>" +
             HtmlEscape(ids.org_id() + "-" + fund) + "</iati-identifier>\n" +
             NarrativeElement("reporting-org", origin,
                              " ref=\"" + HtmlEscape(ids.org_id()) + "\" type=\"11\"") +
             "\n" + NarrativeElement("title", f.name.empty() ? fund : f.name) + "\n" +
             NarrativeElement("description", "Fund " + fund + " of " + f.organisation + " (" +
                                                 fb::EnumNameFundKind(f.kind) +
                                                 "), as recorded in the ledger " + origin) +
             "\n";
      // It started when it opened, or with its first money if that is dated earlier.
      int64_t started_ms = opened_ms[fund];
      for (const IatiTransaction& t : by_fund[fund]) started_ms = std::min(started_ms, t.at_ms);
      std::string ref = ids.IatiRef(f.organisation);
      xml += NarrativeElement("participating-org", f.organisation,
                              (ref.empty() ? "" : " ref=\"" + HtmlEscape(ref) + "\"") +
                                  " role=\"2\" type=\"" + OrganisationTypeOf(f.kind) + "\"") +
             "\n<activity-status code=\"" + (f.closed ? "4" : "2") + "\"/>\n" +
             "<activity-date type=\"2\" iso-date=\"" + DateText(started_ms) + "\"/>\n";
      for (const IatiTransaction& t : by_fund[fund]) xml += TransactionXml(t);
      xml += "</iati-activity>\n";
    }
    return 0;
  });
  return xml + "</iati-activities>\n";
}

}  // namespace fundledger
