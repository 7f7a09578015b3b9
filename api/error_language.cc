#include "api/error_language.h"

#include <boost/json.hpp>
#include <map>

#include "ledger/rule_code.h"

namespace fundledger {
namespace json = boost::json;
namespace {

using Table = std::map<std::string, std::string, std::less<>>;

// By code, or by code and field ("code|field") where the field decides.
const Table& Sentences() {
  static const Table zh{
      // Status codes (a rule's code takes precedence).
      {"invalid_argument", "请求内容有误"},
      {"unauthenticated", "没有登录或登录已过期，请重新登录"},
      {"permission_denied", "您的角色不能做这项操作"},
      {"not_found", "找不到所要的内容"},
      {"conflict", "与已有的记录冲突"},
      {"too_large", "内容超过了允许的大小"},
      {"rule_violation", "台账规则不允许这项操作"},
      {"overloaded", "服务器正忙，请稍后再试"},
      {"corruption", "台账数据校验不通过，暂停服务，请联系管理员"},
      {"io_error", "服务器磁盘或系统出错，请联系管理员"},
      {"internal", "服务器内部错误，请联系管理员"},
      // Fields that decide the sentence.
      {"invalid_argument|amount",
       "金额不对：须为大于零的元金额，最多两位小数，如 1045、1045.00、1,045.00 或 ¥1,045.00"},
      {"invalid_argument|amount_fen", "金额（分）须为大于零的整数"},
      {"invalid_argument|period", "月份不对：请写 2026-02、2026/02、2026年2月 或 202602"},
      {"invalid_argument|beneficiary_id", "没有写明人员：请填受益人编号或身份证号"},
      {"invalid_argument|program_id", "没有写明救助项目"},
      {"invalid_argument|id_number",
       "身份证号有误：须为18位且末位校验码正确（GB 11643），并与受益人编号是同一人"},
      {"invalid_argument|name", "姓名与该人员登记的姓名不一致"},
      {"invalid_argument|line", "这一行无法读取：列数与表头不符、引号未闭合或不是 JSON 对象"},
      {"invalid_argument|Idempotency-Key",
       "每个提交都须带 Idempotency-Key 请求头，重试才不会重复入账"},
      {"invalid_argument|Fundledger-Signature", "签名格式不对：须为“密钥编号:签名”"},
      {"invalid_argument|public_key", "公钥不对：须为 32 字节 Ed25519 公钥的 base64"},
      {"conflict|public_key", "这个签名密钥不能再用（已吊销或属于另一个人），本浏览器将另建新密钥"},
      {"invalid_argument|password", "密码不符合要求：至少 10 个字符"},
      {"invalid_argument|reason",
       "须写明原因（不超过 256 "
       "字节，不含控制字符）：退回批次写退回理由，银行回盘中退回的行写银行的退回原因"},
      {"invalid_argument|status", "状态不对：请写 成功 或 失败/退回"},
      {"invalid_argument|reference", "参考号不对：须为这个批次的 <批次编号>-<行号>"},
      {"conflict|account", "账号与这一行发放的账号不一致"},
      {"conflict|amount", "金额与这一行发放的金额不一致"},
      {"unknown_beneficiary|id_number", "没有登记这个身份证号的人员"},
      // Rules (ledger/rule_code.h), one sentence each.
      {"unknown_fund", "没有这个资金"},
      {"unknown_program", "没有这个救助项目，或这个名称对应多个项目（请填项目编号）"},
      {"unknown_beneficiary", "没有这个受益人编号的人员"},
      {"unknown_batch", "没有这个发放批次"},
      {"unknown_line", "批次中没有这一行"},
      {"unknown_entry", "没有这条台账记录，或它不是所说的种类"},
      {"unknown_checkpoint", "这条记录之前没有这个大小的签名检查点"},
      {"duplicate_id", "这个编号已经用过"},
      {"duplicate_person", "这个身份证号已经登记过"},
      {"fund_closed", "资金已关闭"},
      {"fund_not_empty", "资金仍有余额，不能关闭"},
      {"insufficient_funds", "资金余额不足（已计入尚未审批的占用）"},
      {"amount_overflow", "金额合计超出范围"},
      {"restricted_purpose", "限定用途的资金不能用于其他用途"},
      {"lottery_category", "彩票公益金只能用于批准的类别"},
      {"lottery_ring_fenced", "彩票公益金只能以资助的方式支出"},
      {"not_lottery_fund", "这笔资金不是彩票公益金，不能发放彩票资助"},
      {"lines_rejected", "名册有问题行，全部未入账"},
      {"deceased", "该人员在发放月份之前已去世"},
      {"not_active", "该人员在发放月份不是正常状态（已暂停或已退出）"},
      {"not_enrolled", "该人员在发放月份没有纳入这个项目"},
      {"over_cap", "金额超过项目标准上限"},
      {"program_not_allowed", "这笔资金不能发放这个项目"},
      {"program_not_effective", "项目在该月份没有生效的标准"},
      {"age_limit", "该人员在发放月份不符合项目的年龄条件"},
      {"excluded_combination", "该项目不能与该人员已享受的项目同时享受"},
      {"duplicate_payment", "该人员这个项目这个月份已经发放过（或本名册重复）"},
      {"duplicate_line_no", "行号重复"},
      {"beneficiary_erased", "该人员的个人信息已删除"},
      {"same_maker_checker", "制单人不能审批自己制作的批次，须由另一人审批"},
      {"batch_not_prepared", "这个批次已经批准或退回过"},
      {"batch_not_approved", "更正所指的批次尚未批准"},
      {"incomplete_batch", "批次的分段不全或不一致"},
      {"line_not_paid", "只有已发放的行才能退回或追回"},
      {"line_not_returned", "只有已退回的行才能重新发放"},
      {"wrong_beneficiary", "这一行发放给了另一个人"},
      {"over_recovery", "追回金额超过这笔发放尚可追回的金额"},
      {"line_recovered", "这一行已有追回，请先冲销追回再登记退回"},
      {"recovery_without_line", "追回须写明所追回的发放（批次和行号）"},
      {"wrong_fund", "追回的钱须回到原发放的资金和账户"},
      {"correction_not_latest", "一行的更正须从最新的开始冲销"},
      {"already_reversed", "这条记录已经冲销过"},
      {"not_reversible", "这条记录没有可冲销的资金变动"},
      {"already_enrolled", "该人员在这些月份已纳入这个项目"},
      {"already_erased", "该人员的个人信息已经删除过"},
      {"wrong_organisation", "这笔资金属于另一个组织"},
      {"birth_month_mismatch", "填写的出生年月与身份证号中的出生日期不一致"},
      {"above_enrolled_amount", "金额超过核定的月发放金额"},
      {"period_ahead", "发放月份超过名册月份一个月以上"},
      {"one_off_limit", "一次性项目发放次数超过限制"},
      {"tekun_ratio", "特困供养标准不能低于同月低保标准的 1.3 倍"},
      {"age_extension", "没有年龄上限的项目不能延长年龄"},
      {"consent_ref_form",
       "解除限定的依据须写成 consent:编号 或 filing:编号（彩票公益金须为 filing:）"},
      {"signature_required", "台账要求签名，这项操作没有签名：本浏览器的签名密钥尚未由管理员登记"},
      {"bad_signature", "签名验证不通过，或与这项操作不符"},
      {"unknown_key", "签名密钥没有登记，或属于另一个人"},
      {"key_revoked", "签名密钥已被吊销"},
      {"key_not_for_role", "签名密钥没有登记用于这个角色"},
      {"checker_key_is_makers", "审批的签名密钥与制作名册的是同一个"},
      {"duplicate_key", "这个密钥已经登记过"},
      {"weak_key", "这个公钥不能用：它是小阶点或不在曲线的素数阶子群中，任何人都能伪造它的签名"},
      {"admin_only", "密钥和签名要求只能由管理员登记"},
      {"no_admin_key", "登记管理员密钥之前不能要求签名"},
      {"signing_already_required", "已经要求签名"},
  };
  return zh;
}

// English messages whose meaning the code alone does not carry (log-in answers).
const std::map<std::string, std::string, std::less<>>& MessageSentences() {
  static const std::map<std::string, std::string, std::less<>> zh{
      {"wrong name or password", "用户名或密码不对"},
      {"the account is disabled", "账户已停用"},
      {"the account is locked", "连续输错密码，账户已锁定；请稍后再试，或请管理员重置密码"},
      {"a POST in a console session", "请求缺少本次登录的防伪令牌，请刷新页面后重试"},
      {"role '", "您的角色不能做这项操作"},
      {"no endpoint", "没有这个接口"},
  };
  return zh;
}

const Table& FieldNames() {
  static const Table zh{
      {"amount", "金额"},
      {"amount_fen", "金额（分）"},
      {"period", "月份"},
      {"beneficiary_id", "受益人编号"},
      {"program_id", "救助项目"},
      {"id_number", "身份证号"},
      {"name", "姓名"},
      {"fund_id", "资金"},
      {"bucket", "资金账户"},
      {"batch_id", "批次"},
      {"line", "行"},
      {"line_no", "行号"},
      {"password", "密码"},
      {"role", "角色"},
      {"org", "组织"},
      {"actor", "人员"},
      {"roles", "角色"},
      {"public_key", "公钥"},
      {"reason", "原因"},
      {"document", "文件编号"},
      {"key_id", "密钥编号"},
      {"region", "地区"},
      {"as_of", "截至日期"},
      {"status", "状态"},
  };
  return zh;
}

std::string Localize(std::string_view code, std::string_view field, std::string_view english) {
  for (const auto& [start, sentence] : MessageSentences()) {
    if (english.substr(0, start.size()) == start) return sentence;
  }
  std::string sentence = ChineseSentence(code, field);
  if (sentence.empty()) sentence = ChineseSentence("invalid_argument", "");
  if (Sentences().contains(std::string(code) + "|" + std::string(field))) return sentence;
  // A status code's sentence is general: the field says what it is about.
  bool general = code == "invalid_argument" || code == "not_found" || code == "conflict" ||
                 code == "too_large";
  std::string name = general ? ChineseFieldName(field) : std::string();
  return name.empty() ? sentence : sentence + "：" + name;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

void LocalizeObject(json::object& e) {
  const json::value* message = e.if_contains("message");
  if (message == nullptr || !message->is_string() || !IsAscii(message->get_string())) return;
  auto text = [&](const char* k) {
    const json::value* v = e.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  e["message"] = Localize(text("code"), text("field"), text("message"));
}

}  // namespace

Language PreferredLanguage(std::string_view accept_language) {
  size_t start = accept_language.find_first_not_of(" \t");
  if (start == std::string_view::npos) return Language::kEn;
  std::string_view first = accept_language.substr(start, 2);
  return first == "zh" || first == "ZH" || first == "Zh" ? Language::kZh : Language::kEn;
}

std::string ChineseSentence(std::string_view code, std::string_view field) {
  auto it = Sentences().find(std::string(code) + "|" + std::string(field));
  if (it == Sentences().end()) it = Sentences().find(code);
  return it == Sentences().end() ? std::string() : it->second;
}

std::string ChineseFieldName(std::string_view field) {
  auto it = FieldNames().find(field);
  return it == FieldNames().end() ? std::string() : it->second;
}

std::string LocalizedMessage(const Status& s, Language language) {
  if (language == Language::kEn) return s.message();
  std::string code = s.rule().empty() ? std::string(StatusCodeName(s.code())) : s.rule();
  return Localize(code, s.field(), s.message());
}

void LocalizeErrorBody(HttpResponse& r, Language language) {
  if (language != Language::kZh || r.status < 400 || r.content_type != "application/json") return;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  json::object* o = ec ? nullptr : v.if_object();
  json::value* e = o ? o->if_contains("error") : nullptr;
  if (e == nullptr || !e->is_object()) return;
  LocalizeObject(e->get_object());
  if (json::value* details = e->get_object().if_contains("details");
      details && details->is_array()) {
    for (json::value& d : details->get_array()) {
      if (d.is_object()) LocalizeObject(d.get_object());
    }
  }
  r.body = json::serialize(v);
}

}  // namespace fundledger
