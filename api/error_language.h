// The API's error messages in the language the request prefers. Codes never change; a message
// is English (the Status's own) or, when Accept-Language prefers zh, a Chinese sentence chosen
// by the code and the field it names, with the field by its Chinese name: never English inside
// a Chinese message. Every rule code of ledger/rule_code.h and every status code has a sentence
// (tests/api/error_language_test.cc checks it).
//
//   Language language = PreferredLanguage(request.accept_language);
//   std::string text = LocalizedMessage(status, language);
//   LocalizeErrorBody(response, language);   // every message of an error answer
#pragma once

#include <string>
#include <string_view>

#include "api/http_message.h"

namespace fundledger {

enum class Language { kEn, kZh };

// "zh-CN,zh;q=0.9,en;q=0.8" -> kZh: the first language named; English when none is.
Language PreferredLanguage(std::string_view accept_language);

// The Chinese sentence for an error's code (a rule's name or a status's), or "" when none.
std::string ChineseSentence(std::string_view code, std::string_view field);
// A field's or column's Chinese name ("amount" -> "金额"), or "" when it has none.
std::string ChineseFieldName(std::string_view field);

// The status's message in `language` (kEn: its own message).
std::string LocalizedMessage(const Status& status, Language language);

// Rewrites, for kZh, the message of an error answer's body and of each of its details that is
// still English. Other answers are left alone.
void LocalizeErrorBody(HttpResponse& response, Language language);

}  // namespace fundledger
