#include "api/demo.h"

#include <map>
#include <random>
#include <set>

namespace fundledger {
namespace {

const Actor kAdmin{"admin.zhao", fb::Role::admin};
const Actor kMaker{"clerk.li", fb::Role::maker};
const Actor kChecker{"checker.wang", fb::Role::checker};
const Actor kCharityA{"charity.sunshine", fb::Role::charity};

const char* kDistricts[] = {"320102", "320104", "320105", "320106", "320111"};
const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                           "周", "吴", "徐", "孙", "胡", "朱", "高"};
const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊",   "军", "洋",
                        "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"};

std::string IdNumber(const std::string& region, int32_t birth_month, int day, int seq) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  char body[18];
  std::snprintf(body, sizeof body, "%s%06d%02d%03d", region.c_str(), birth_month, day, seq % 1000);
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + kCheck[sum % 11];
}

struct Person {
  std::string id;
  std::string region;
  int32_t birth_month = 0;
  std::vector<std::string> programs;
  int32_t death_month = 0;     // 0: alive all year; else paid through this month
  int32_t suspended_from = 0;  // suspended from this month ...
  int32_t suspended_to = 0;    // ... through this one (0: for the rest of the year)
};

class Builder {
 public:
  Builder(Ledger& ledger, const DemoOptions& options)
      : ledger_(ledger), options_(options), rng_(options.seed) {}

  Result<DemoSummary> Run() {
    FL_RETURN_IF_ERROR(ReferenceData());
    FL_RETURN_IF_ERROR(People());
    for (int m = 0; m < options_.months; ++m) {
      int32_t month = MonthFromIndex(MonthIndex(202501) + m);
      if (m % 3 == 0) FL_RETURN_IF_ERROR(Appropriations(month));
      FL_RETURN_IF_ERROR(StatusChanges(month));
      FL_RETURN_IF_ERROR(Rolls(month));
      FL_RETURN_IF_ERROR(Charities(month));
      if (options_.progress) options_.progress("month " + FormatMonth(month) + " posted");
    }
    FL_RETURN_IF_ERROR(ReturnsAndReissues());
    FL_RETURN_IF_ERROR(Lottery());
    summary_.entries = ledger_.log().size();
    return summary_;
  }

 private:
  Status Do(const Actor& actor, std::vector<DomainEvent> events) {
    Result<AppendResult> r =
        ledger_.Submit(actor, "demo-" + std::to_string(++key_), std::move(events));
    return r.ok() ? Status::Ok() : r.status();
  }

  fb::ProgramDefinedT Program(const std::string& id, const std::string& name,
                              fb::ProgramCategory cat, int64_t standard, int64_t cap,
                              std::vector<std::string> excludes = {}, int age_min = 0,
                              int age_max = 0) {
    fb::ProgramDefinedT p;
    p.program_id = id;
    p.name = name;
    p.category = cat;
    p.period = cat == fb::ProgramCategory::temporary ? fb::PaymentPeriod::one_off
                                                     : fb::PaymentPeriod::monthly;
    p.standard_fen = standard;
    p.cap_fen = cap;
    p.effective_month = 202501;
    p.excludes = std::move(excludes);
    p.age_min_years = age_min;
    p.age_max_years = age_max;
    return p;
  }

  fb::FundOpenedT Fund(const std::string& id, const std::string& name, fb::FundKind kind,
                       const std::string& org, std::vector<std::string> programs,
                       std::vector<std::string> purposes = {}) {
    fb::FundOpenedT f;
    f.fund_id = id;
    f.name = name;
    f.kind = kind;
    f.organisation = org;
    f.currency = "CNY";
    f.programs = std::move(programs);
    f.purposes = std::move(purposes);
    f.bank_account_token = "dedicated-" + id;
    return f;
  }

  Status ReferenceData() {
    standards_ = {{"dibao", 104500},       {"tekun", 146300},           {"disab-living", 15000},
                  {"disab-care", 20000},   {"elderly-80", 10000},       {"elderly-90", 30000},
                  {"orphan-inst", 264000}, {"orphan-scattered", 228000}};
    std::vector<DomainEvent> programs{
        Program("dibao", "城乡最低生活保障 低保", fb::ProgramCategory::dibao, 104500, 104500,
                {"tekun"}),
        Program("tekun", "特困人员救助供养", fb::ProgramCategory::tekun, 146300, 146300, {"dibao"}),
        Program("disab-living", "困难残疾人生活补贴", fb::ProgramCategory::disability_living, 15000,
                15000),
        Program("disab-care", "重度残疾人护理补贴", fb::ProgramCategory::disability_care, 20000,
                20000),
        Program("elderly-80", "高龄津贴 80-89岁", fb::ProgramCategory::elderly_allowance, 10000,
                10000, {"elderly-90"}, 80),
        Program("elderly-90", "高龄津贴 90岁以上", fb::ProgramCategory::elderly_allowance, 30000,
                30000, {"elderly-80"}, 90),
        Program("orphan-inst", "孤儿基本生活费 机构养育", fb::ProgramCategory::orphan, 264000,
                264000, {"orphan-scattered"}, 0, 18),
        Program("orphan-scattered", "孤儿基本生活费 散居", fb::ProgramCategory::orphan, 228000,
                228000, {"orphan-inst"}, 0, 18),
        Program("temporary", "临时救助", fb::ProgramCategory::temporary, 100000, 5000000),
    };
    FL_RETURN_IF_ERROR(Do(kAdmin, std::move(programs)));
    std::vector<std::string> subsidy_programs;
    for (const auto& [p, std] : standards_) subsidy_programs.push_back(p);
    subsidy_programs.push_back("temporary");
    return Do(
        kAdmin,
        {Fund("F-SUBSIDY", "社会救助资金专户", fb::FundKind::subsidy, "bureau.civil-affairs",
              subsidy_programs),
         Fund("F-LOTTERY", "福利彩票公益金", fb::FundKind::lottery_welfare, "bureau.civil-affairs",
              {}, {"elderly-care", "child-welfare", "disability"}),
         Fund("F-ELDERLY-HOME", "市社会福利院项目资金", fb::FundKind::trust, "org.welfare-home",
              {}),
         Fund("F-SUNSHINE", "阳光慈善基金会", fb::FundKind::charity, "charity.sunshine", {}),
         Fund("F-WARMHEART", "暖心公益基金会", fb::FundKind::charity, "charity.warmheart", {})});
  }

  Status People() {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<std::pair<fb::BeneficiaryRegisteredT, PersonalData>> batch;
    std::vector<DomainEvent> enrollments;
    for (int i = 0; i < options_.people; ++i) {
      Person p;
      char id[16];
      std::snprintf(id, sizeof id, "B%06d", i + 1);
      p.id = id;
      p.region = kDistricts[rng_() % 5];
      double kind = u(rng_);
      int birth_year;
      if (kind < 0.012) {
        birth_year =
            2007 + static_cast<int>(rng_() % 10);  // orphans; those born in 2007 turn 18 this year
        p.programs.push_back(rng_() % 3 == 0 ? "orphan-inst" : "orphan-scattered");
      } else if (kind < 0.20) {
        birth_year = 1928 + static_cast<int>(rng_() % 17);  // 80 or over in every month of 2025
        p.programs.push_back(birth_year <= 1934 ? "elderly-90" : "elderly-80");
        if (u(rng_) < 0.3) p.programs.push_back("dibao");
      } else {
        birth_year = 1950 + static_cast<int>(rng_() % 55);
        p.programs.push_back(u(rng_) < 0.07 ? "tekun" : "dibao");
        if (u(rng_) < 0.18) p.programs.push_back("disab-living");
        if (u(rng_) < 0.10) p.programs.push_back("disab-care");
      }
      p.birth_month = birth_year * 100 + 1 + static_cast<int32_t>(rng_() % 12);
      // Orphans born late in a year could turn 18 within it: paid until then by the rules.
      if (u(rng_) < 0.0002 * 12)
        p.death_month =
            MonthFromIndex(MonthIndex(202501) + static_cast<int>(rng_() % options_.months));
      if (p.death_month == 0 && u(rng_) < 0.0003 * 12) {
        p.suspended_from =
            MonthFromIndex(MonthIndex(202501) + static_cast<int>(rng_() % options_.months));
        p.suspended_to = rng_() % 2 ? MonthFromIndex(MonthIndex(p.suspended_from) + 2) : 0;
      }
      fb::BeneficiaryRegisteredT e;
      e.beneficiary_id = p.id;
      e.household_id = "H" + p.id.substr(1);
      e.region_code = p.region;
      e.birth_month = p.birth_month;
      e.payee_role = birth_year >= 2007
                         ? (p.programs[0] == "orphan-inst" ? fb::PayeeRole::institution
                                                           : fb::PayeeRole::guardian)
                         : fb::PayeeRole::self;
      e.registered_date = 20241201;
      std::string name = std::string(kSurnames[rng_() % 15]) + kGiven[rng_() % 20] +
                         (rng_() % 2 ? kGiven[rng_() % 20] : "");
      // A unique ID number per person: sequence numbers move on where two would coincide.
      std::string id_number;
      for (int seq = i % 1000;; ++seq) {
        id_number = IdNumber(p.region, p.birth_month, 1 + (i / 1000) % 28, seq);
        if (used_ids_.insert(id_number).second) break;
      }
      PersonalData person{
          name, id_number,
          "6217" + std::to_string(100000000000000LL + static_cast<int64_t>(i) * 7919),
          "139" + std::to_string(10000000 + i)};
      batch.emplace_back(std::move(e), std::move(person));
      for (const std::string& prog : p.programs) {
        fb::EnrolledT en;
        en.beneficiary_id = p.id;
        en.program_id = prog;
        en.monthly_amount_fen = standards_.at(prog);
        en.from_month = 202501;
        en.approval_doc = "审批-" + p.id + "-" + prog;
        enrollments.emplace_back(std::move(en));
      }
      people_.push_back(std::move(p));
      if (batch.size() == 1000 || i + 1 == options_.people) {
        Result<AppendResult> r = ledger_.RegisterBeneficiaries(
            kMaker, "demo-people-" + std::to_string(i), std::move(batch));
        if (!r.ok()) return r.status();
        batch.clear();
        FL_RETURN_IF_ERROR(Do(kMaker, std::move(enrollments)));
        enrollments.clear();
      }
    }
    summary_.people = options_.people;
    if (options_.progress)
      options_.progress(std::to_string(options_.people) + " beneficiaries registered and enrolled");
    return Status::Ok();
  }

  Status Appropriations(int32_t month) {
    fb::AppropriatedT a;
    a.fund_id = "F-SUBSIDY";
    a.bucket = "general";
    a.amount_fen =
        int64_t{options_.people} * 140000 * 3;  // a quarter of every program, with a margin
    a.source = "treasury";
    a.document = "财政拨款 " + FormatMonth(month) + " 季度";
    fb::AppropriatedT l;
    l.fund_id = "F-LOTTERY";
    l.bucket = "general";
    l.amount_fen = 50'000'000;
    l.source = "lottery_pool";
    l.document = "福彩公益金 " + FormatMonth(month) + " 季度";
    return Do(kMaker, {a, l});
  }

  Status StatusChanges(int32_t month) {
    std::vector<DomainEvent> changes;
    for (const Person& p : people_) {
      if (p.death_month == month) {
        fb::BeneficiaryChangedT c;
        c.beneficiary_id = p.id;
        c.status = fb::BeneficiaryStatus::deceased;
        c.effective_date = month * 100 + 10 + static_cast<int32_t>(rng_() % 18);
        c.reason = "死亡 (户籍注销)";
        changes.emplace_back(std::move(c));
        summary_.deaths++;
      }
      if (p.suspended_from == month ||
          (p.suspended_to != 0 && MonthFromIndex(MonthIndex(p.suspended_to) + 1) == month)) {
        fb::BeneficiaryChangedT c;
        c.beneficiary_id = p.id;
        c.status = p.suspended_from == month ? fb::BeneficiaryStatus::suspended
                                             : fb::BeneficiaryStatus::active;
        c.effective_date = month * 100 + 1;
        c.reason = p.suspended_from == month ? "暂停 (待复核)" : "恢复 (复核通过)";
        changes.emplace_back(std::move(c));
      }
    }
    if (changes.empty()) return Status::Ok();
    return Do(kMaker, std::move(changes));
  }

  bool Payable(const Person& p, int32_t month) const {
    if (p.death_month != 0 && month > p.death_month) return false;
    if (p.suspended_from != 0 && month >= p.suspended_from &&
        (p.suspended_to == 0 || month <= p.suspended_to))
      return false;
    return true;
  }

  Status Rolls(int32_t month) {
    std::vector<RollLine> lines;
    for (const Person& p : people_) {
      if (!Payable(p, month)) continue;
      for (const std::string& prog : p.programs) {
        int64_t age_months = MonthIndex(month) - MonthIndex(p.birth_month);
        if (prog.starts_with("orphan") && age_months > 18 * 12)
          continue;  // stops the month after the 18th birthday
        lines.push_back(
            {static_cast<uint32_t>(lines.size() + 1), p.id, prog, month, standards_.at(prog)});
      }
    }
    std::string batch = "ROLL-" + FormatMonth(month);
    Result<AppendResult> r =
        ledger_.PrepareBatch(kMaker, "demo-" + batch, batch, "F-SUBSIDY", "general", month,
                             "月度发放名册 " + FormatMonth(month), lines);
    if (!r.ok()) return r.status();
    fb::DisbursementBatchApprovedT ok;
    ok.batch_id = batch;
    ok.document = "复核通过";
    summary_.roll_lines += lines.size();
    batches_.push_back({batch, lines});
    return Do(kChecker, {ok});
  }

  Status ReturnsAndReissues() {
    for (int i = 0; i < 15 && !batches_.empty(); ++i) {
      const auto& [batch, lines] = batches_[rng_() % batches_.size()];
      const RollLine& line = lines[rng_() % lines.size()];
      fb::PaymentReturnedT ret;
      ret.batch_id = batch;
      ret.line_no = line.line_no;
      ret.reason = i % 3 == 0 ? "账户已销户" : "户名与账号不符";
      ret.bank_ref = "BR" + std::to_string(100000 + i);
      Status s = Do(kMaker, {ret});
      if (!s.ok()) continue;  // the same line drawn twice
      summary_.returns++;
      if (i % 3 != 0) {
        fb::PaymentReissuedT re;
        re.batch_id = batch;
        re.line_no = line.line_no;
        re.document = "更正账户后重发";
        FL_RETURN_IF_ERROR(Do(kMaker, {re}));
      }
    }
    return Status::Ok();
  }

  Status Charities(int32_t month) {
    fb::DonationReceivedT d;
    d.fund_id = "F-SUNSHINE";
    d.bucket = month % 2 ? "school-meals" : "general";
    d.donor_id = month % 3 ? "donor:D" + std::to_string(month) : "";
    d.amount_fen = 2'000'000 + static_cast<int64_t>(rng_() % 1'000'000);
    d.receipt_no = "SS-" + FormatMonth(month);
    fb::DonationReceivedT w;
    w.fund_id = "F-WARMHEART";
    w.bucket = month >= 202510 ? "winter-coats" : "general";
    w.amount_fen = 800'000 + static_cast<int64_t>(rng_() % 400'000);
    w.receipt_no = "WH-" + FormatMonth(month);
    fb::ExpensedT meals;
    meals.fund_id = "F-SUNSHINE";
    meals.bucket = "school-meals";
    meals.payee = "学生营养餐配送中心";
    meals.class_ = fb::ExpenseClass::charitable;
    meals.purpose = "school-meals";
    meals.amount_fen = 700'000;
    meals.document = "发票 SS-M-" + FormatMonth(month);
    fb::ExpensedT admin;
    admin.fund_id = "F-SUNSHINE";
    admin.bucket = "general";
    admin.payee = "办公场地租赁";
    admin.class_ = fb::ExpenseClass::admin;
    admin.purpose = "office";
    admin.amount_fen = 150'000;
    admin.document = "发票 SS-A-" + FormatMonth(month);
    fb::DonationReceivedT open = d;  // an open donation every month pays for administration
    open.bucket = "general";
    open.donor_id = "";
    open.amount_fen = 400'000 + static_cast<int64_t>(rng_() % 200'000);
    open.receipt_no = "SS-G-" + FormatMonth(month);
    std::vector<DomainEvent> events{d, open};
    if (month % 2 == 0) events.emplace_back(meals);  // spend what the odd month raised
    events.emplace_back(admin);
    FL_RETURN_IF_ERROR(Do(kCharityA, std::move(events)));
    return Do(Actor{"charity.warmheart", fb::Role::charity}, {w});
  }

  Status Lottery() {
    std::vector<DomainEvent> grants;
    const std::pair<const char*, const char*> projects[] = {
        {"P-ELDERLY-CARE-2025", "elderly-care"},
        {"P-DAYCARE-2025", "elderly-care"},
        {"P-CHILD-WELFARE-2025", "child-welfare"}};
    // Granted from what the quarters brought in: elderly care 60% of the grants (at least 55%).
    const int64_t received = int64_t{(options_.months + 2) / 3} * 50'000'000;
    const int64_t amounts[] = {received * 40 / 100, received * 20 / 100, received * 25 / 100};
    for (int i = 0; i < 3; ++i) {
      fb::LotteryGrantAwardedT g;
      g.from_fund_id = "F-LOTTERY";
      g.from_bucket = "general";
      g.to_fund_id = "F-ELDERLY-HOME";
      g.project_id = projects[i].first;
      g.category = projects[i].second;
      g.amount_fen = amounts[i];
      g.document = "福彩公益金项目批复 " + std::string(projects[i].first);
      grants.emplace_back(std::move(g));
    }
    FL_RETURN_IF_ERROR(Do(kAdmin, std::move(grants)));
    fb::ExpensedT e;
    e.fund_id = "F-ELDERLY-HOME";
    e.bucket = "P-ELDERLY-CARE-2025";
    e.payee = "护理设备供应商";
    e.class_ = fb::ExpenseClass::charitable;
    e.purpose = "P-ELDERLY-CARE-2025";
    e.amount_fen = amounts[0] * 3 / 4;
    e.document = "采购合同 2025-017";
    return Do(kMaker, {e});
  }

  Ledger& ledger_;
  const DemoOptions& options_;
  std::mt19937_64 rng_;
  std::map<std::string, int64_t> standards_;
  std::vector<Person> people_;
  std::set<std::string> used_ids_;
  std::vector<std::pair<std::string, std::vector<RollLine>>> batches_;
  DemoSummary summary_;
  int key_ = 0;
};

}  // namespace

Result<DemoSummary> GenerateDemoCity(Ledger& ledger, const DemoOptions& options) {
  if (options.people < 10 || options.people > 1'000'000)
    return InvalidArgument("people must be 10..1,000,000");
  if (options.months < 1 || options.months > 12) return InvalidArgument("months must be 1..12");
  Builder builder(ledger, options);
  return builder.Run();
}

}  // namespace fundledger
