#include "api/demo.h"

#include <map>
#include <random>
#include <set>
#include <type_traits>

#include "api/city_builder.h"
#include "api/random_secret.h"

namespace fundledger {

Result<std::string> DemoPassword() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  static constexpr size_t kChars = 12;
  return RandomSecret(kChars, "a password", [](ByteView random) {
    std::string password;
    for (size_t i = 0; i < random.size(); ++i) {
      if (i > 0 && i % 4 == 0) password += '-';
      // 256 = 8 * 31 + 8: 8 letters come 9/8 as often as the others, which leaves 4.952 of
      // log2(31) = 4.954 bits a character (59.4 bits in all).
      password += kAlphabet[random[i] % kAlphabet.size()];
    }
    return password;
  });
}

std::shared_ptr<const ActorSigningKey> DemoStaffKey(uint64_t seed, const std::string& actor) {
  Hash seed_bytes =
      Sha256::Digest(AsBytes("fundledger-demo-key\n" + std::to_string(seed) + "\n" + actor));
  Ed25519PrivateKey key = *Ed25519PrivateKey::FromSeed(ByteView(seed_bytes.data(), 32));
  return std::make_shared<const ActorSigningKey>(
      ActorSigningKey{ActorKeyId(key.public_key()), key});
}

namespace {

Actor Staff(uint64_t seed, std::string name, fb::Role role) {
  Actor a{name, role};
  a.key = DemoStaffKey(seed, name);
  return a;
}

const char* kDistricts[] = {"320102", "320104", "320105", "320106", "320111"};
const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                           "周", "吴", "徐", "孙", "胡", "朱", "高"};
const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊",   "军", "洋",
                        "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "平"};

// `event` dated `yyyymmdd`: the business date of the movement (ledger/entry.fbs), so that each
// month's money counts in that month however late the demo is run.
template <typename T>
T Dated(int32_t yyyymmdd, T event) {
  if constexpr (std::is_same_v<T, fb::DonationReceivedT>) {
    event.receipt_date = yyyymmdd;
  } else {
    event.value_date = yyyymmdd;
  }
  return event;
}

struct Person {
  std::string id;
  std::string region;
  int32_t birth_month = 0;
  int32_t birth_date = 0;  // as the ID number carries it
  std::vector<std::string> programs;
  int32_t death_month = 0;     // 0: alive all year; else paid through this month
  int32_t suspended_from = 0;  // suspended from this month ...
  int32_t suspended_to = 0;    // ... through this one (0: for the rest of the year)
};

class Builder {
 public:
  Builder(Ledger& ledger, const DemoOptions& options)
      : ledger_(ledger),
        options_(options),
        rng_(options.seed),
        kAdmin(Staff(options.seed, "admin.zhao", fb::Role::admin)),
        kMaker(Staff(options.seed, "clerk.li", fb::Role::maker)),
        kChecker(Staff(options.seed, "checker.wang", fb::Role::checker)),
        kCharityA(Staff(options.seed, "charity.sunshine", fb::Role::charity)),
        kCharityB(Staff(options.seed, "charity.warmheart", fb::Role::charity)),
        city_(ledger,
              {.key_prefix = "demo-", .admin = kAdmin, .maker = kMaker, .checker = kChecker}) {}

  Result<DemoSummary> Run() {
    FL_RETURN_IF_ERROR(StaffKeys());
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
    return city_.Submit(actor, std::move(events));
  }

  // The admin's own key first (unsigned: no key is registered yet), then every other member of
  // staff's, signed by the admin; then signing is required.
  Status StaffKeys() {
    Actor bootstrap{kAdmin.name, fb::Role::admin};
    FL_RETURN_IF_ERROR(ledger_
                           .RegisterKey(bootstrap, "demo-key-" + kAdmin.name, kAdmin.name,
                                        {fb::Role::admin}, kAdmin.key->key.public_key(),
                                        "任命文件 admin")
                           .status());
    summary_.keys[kAdmin.name] = kAdmin.key;
    for (const Actor* a : {&kMaker, &kChecker, &kCharityA, &kCharityB}) {
      FL_RETURN_IF_ERROR(ledger_
                             .RegisterKey(kAdmin, "demo-key-" + a->name, a->name, {a->role},
                                          a->key->key.public_key(), "任命文件 " + a->name)
                             .status());
      summary_.keys[a->name] = a->key;
    }
    if (!options_.require_signing) return Status::Ok();
    return ledger_.RequireSigning(kAdmin, "demo-require-signing", "签名启用决定").status();
  }

  Status ReferenceData() {
    standards_ = {{"dibao", 104500},       {"tekun", 146300},           {"disab-living", 15000},
                  {"disab-care", 20000},   {"elderly-80", 10000},       {"elderly-90", 30000},
                  {"orphan-inst", 264000}, {"orphan-scattered", 228000}};
    using C = fb::ProgramCategory;
    auto program = [](std::string id, std::string name, C category, int64_t standard_fen,
                      int64_t cap_fen, std::vector<std::string> excludes = {}, int32_t age_min = 0,
                      int32_t age_max = 0) {
      return ProgramSpec{std::move(id), std::move(name),     category, standard_fen, cap_fen,
                         202501,        std::move(excludes), age_min,  age_max};
    };
    FL_RETURN_IF_ERROR(city_.DefinePrograms({
        program("dibao", "城乡最低生活保障 低保", C::dibao, 104500, 104500, {"tekun"}),
        program("tekun", "特困人员救助供养", C::tekun, 146300, 146300, {"dibao"}),
        program("disab-living", "困难残疾人生活补贴", C::disability_living, 15000, 15000),
        program("disab-care", "重度残疾人护理补贴", C::disability_care, 20000, 20000),
        program("elderly-80", "高龄津贴 80-89岁", C::elderly_allowance, 10000, 10000,
                {"elderly-90"}, 80),
        program("elderly-90", "高龄津贴 90岁以上", C::elderly_allowance, 30000, 30000,
                {"elderly-80"}, 90),
        program("orphan-inst", "孤儿基本生活费 机构养育", C::orphan, 264000, 264000,
                {"orphan-scattered"}, 0, 18),
        program("orphan-scattered", "孤儿基本生活费 散居", C::orphan, 228000, 228000,
                {"orphan-inst"}, 0, 18),
        program("temporary", "临时救助", C::temporary, 100000, 5000000),
    }));
    std::vector<std::string> subsidy_programs;
    for (const auto& [p, std] : standards_) subsidy_programs.push_back(p);
    subsidy_programs.push_back("temporary");
    auto fund = [](std::string id, std::string name, fb::FundKind kind, std::string org,
                   std::vector<std::string> programs, std::vector<std::string> purposes = {}) {
      return FundSpec{id,
                      std::move(name),
                      kind,
                      std::move(org),
                      std::move(programs),
                      std::move(purposes),
                      "dedicated-" + id};
    };
    return city_.OpenFunds(
        {fund("F-SUBSIDY", "社会救助资金专户", fb::FundKind::subsidy, "bureau.civil-affairs",
              subsidy_programs),
         fund("F-LOTTERY", "福利彩票公益金", fb::FundKind::lottery_welfare, "bureau.civil-affairs",
              {}, {"elderly-care", "child-welfare", "disability"}),
         fund("F-ELDERLY-HOME", "市社会福利院项目资金", fb::FundKind::trust, "org.welfare-home",
              {}),
         fund("F-SUNSHINE", "阳光慈善基金会", fb::FundKind::charity, "charity.sunshine", {}),
         fund("F-WARMHEART", "暖心公益基金会", fb::FundKind::charity, "charity.warmheart", {})});
  }

  // Person i (0-based) of the city: who they are, which programs pay them, and when their
  // circumstances change; drawn from the seeded generator, so the same seed makes the same city.
  CityPerson NewPerson(int i) {
    std::uniform_real_distribution<double> u(0, 1);
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
    CityPerson out;
    fb::BeneficiaryRegisteredT& e = out.registration;
    e.beneficiary_id = p.id;
    e.household_id = "H" + p.id.substr(1);
    e.region_code = p.region;
    e.birth_month = p.birth_month;
    e.payee_role = birth_year >= 2007 ? (p.programs[0] == "orphan-inst" ? fb::PayeeRole::institution
                                                                        : fb::PayeeRole::guardian)
                                      : fb::PayeeRole::self;
    e.registered_date = 20241201;
    std::string name = std::string(kSurnames[rng_() % 15]) + kGiven[rng_() % 20] +
                       (rng_() % 2 ? kGiven[rng_() % 20] : "");
    // A unique ID number per person: sequence numbers move on where two would coincide.
    p.birth_date = p.birth_month * 100 + 1 + (i / 1000) % 28;
    std::string id_number;
    for (int seq = i % 1000;; ++seq) {
      id_number = ResidentIdNumber(p.region, p.birth_date, seq);
      if (used_ids_.insert(id_number).second) break;
    }
    out.personal =
        PersonalData{name, id_number,
                     "6217" + std::to_string(100000000000000LL + static_cast<int64_t>(i) * 7919),
                     "139" + std::to_string(10000000 + i)};
    for (const std::string& prog : p.programs)
      out.enrolments.push_back(
          Enrolment(p.id, prog, standards_.at(prog), 202501, "审批-" + p.id + "-" + prog));
    people_.push_back(std::move(p));
    return out;
  }

  Status People() {
    std::vector<CityPerson> people;
    for (int i = 0; i < options_.people; ++i) people.push_back(NewPerson(i));
    FL_RETURN_IF_ERROR(city_.AddPeople(std::move(people), 1000));
    summary_.people = options_.people;
    if (options_.progress)
      options_.progress(std::to_string(options_.people) + " beneficiaries registered and enrolled");
    return Status::Ok();
  }

  Status Appropriations(int32_t month) {
    const int64_t quarter = int64_t{options_.people} * 140000 * 3;  // every program, and a margin
    const int32_t day = FirstDayOf(month);
    return Do(kMaker, {Dated(day, Appropriation("F-SUBSIDY", "general", quarter, "treasury",
                                                "财政拨款 " + FormatMonth(month) + " 季度")),
                       Dated(day, Appropriation("F-LOTTERY", "general", 50'000'000, "lottery_pool",
                                                "福彩公益金 " + FormatMonth(month) + " 季度"))});
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
        if (prog.starts_with("orphan") && AgeOn(p.birth_date, FirstDayOf(month)) >= 18)
          continue;  // 18 on the month's first day (ledger/README.md, "Age")
        lines.push_back(
            {static_cast<uint32_t>(lines.size() + 1), p.id, prog, month, standards_.at(prog)});
      }
    }
    std::string batch = "ROLL-" + FormatMonth(month);
    FL_RETURN_IF_ERROR(city_.PayRoll(
        {batch, "F-SUBSIDY", "general", month, "月度发放名册 " + FormatMonth(month), "复核通过"},
        lines));
    summary_.roll_lines += lines.size();
    batches_.push_back({batch, lines});
    return Status::Ok();
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
    const std::string m = FormatMonth(month);
    // Drawn in this order, so that a seed makes the same city.
    const int64_t restricted_fen = 2'000'000 + static_cast<int64_t>(rng_() % 1'000'000);
    const int64_t warmheart_fen = 800'000 + static_cast<int64_t>(rng_() % 400'000);
    const int64_t open_fen = 400'000 + static_cast<int64_t>(rng_() % 200'000);
    const int32_t received = month * 100 + 5, spent = month * 100 + 20;
    std::vector<DomainEvent> events{
        Dated(received, Donation({"F-SUNSHINE", month % 2 ? "school-meals" : "general",
                                  month % 3 ? "donor:D" + std::to_string(month) : "",
                                  restricted_fen, "SS-" + m})),
        // an open donation every month pays for administration
        Dated(received, Donation({"F-SUNSHINE", "general", "", open_fen, "SS-G-" + m}))};
    if (month % 2 == 0) {  // spend what the odd month raised
      events.emplace_back(Dated(
          spent,
          Expenditure({"F-SUNSHINE", "school-meals", "学生营养餐配送中心",
                       fb::ExpenseClass::charitable, "school-meals", 700'000, "发票 SS-M-" + m})));
    }
    events.emplace_back(
        Dated(spent, Expenditure({"F-SUNSHINE", "general", "办公场地租赁", fb::ExpenseClass::admin,
                                  "office", 150'000, "发票 SS-A-" + m})));
    FL_RETURN_IF_ERROR(Do(kCharityA, std::move(events)));
    return Do(
        kCharityB,
        {Dated(received, Donation({"F-WARMHEART", month >= 202510 ? "winter-coats" : "general", "",
                                   warmheart_fen, "WH-" + m}))});
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
    // Granted, and the first equipment bought, in the last month's second half.
    const int32_t granted = MonthFromIndex(MonthIndex(202501) + options_.months - 1) * 100 + 15;
    for (int i = 0; i < 3; ++i) {
      fb::LotteryGrantAwardedT g;
      g.value_date = granted;
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
    return Do(kMaker, {Dated(granted + 5,
                             Expenditure({"F-ELDERLY-HOME", "P-ELDERLY-CARE-2025", "护理设备供应商",
                                          fb::ExpenseClass::charitable, "P-ELDERLY-CARE-2025",
                                          amounts[0] * 3 / 4, "采购合同 2025-017"}))});
  }

  Ledger& ledger_;
  const DemoOptions& options_;
  std::mt19937_64 rng_;
  std::map<std::string, int64_t> standards_;
  std::vector<Person> people_;
  std::set<std::string> used_ids_;
  std::vector<std::pair<std::string, std::vector<RollLine>>> batches_;
  DemoSummary summary_;
  const Actor kAdmin, kMaker, kChecker, kCharityA, kCharityB;  // the staff, with their keys
  CityBuilder city_;
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
