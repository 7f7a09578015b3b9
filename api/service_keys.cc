// People's signing keys over HTTP (ledger/actor_keys.h): a console session hands in the public
// key its browser made (an enrollment request, kept with the account), an admin registers a key
// in an ActorKeyRegistered entry or revokes one, and anyone on staff reads the registry.
//
// An enrollment request authorises nothing: only the admin's signed entry does, after the admin
// has compared the key id the person's browser shows with the one the console lists
// (ledger/README.md, "Threat model").
#include <boost/json.hpp>
#include <optional>

#include "api/actor_name.h"
#include "api/request_fields.h"
#include "api/service.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr uint32_t kAnyStaff = kAdmin | kMaker | kChecker | kAuditor | kCharity;

Result<Ed25519PublicKey> PublicKeyField(const JsonFields& body) {
  FL_ASSIGN_OR_RETURN(std::string text, body.String("public_key"));
  Result<Bytes> bytes = Base64Decode(text);
  if (!bytes.ok() || bytes->size() != kEd25519PublicKeyBytes) {
    return InvalidArgument("public_key must be the base64 of a 32-byte Ed25519 public key")
        .WithField("public_key");
  }
  Ed25519PublicKey key{};
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

json::array RoleArray(const std::vector<fb::Role>& roles) {
  json::array out;
  for (fb::Role r : roles) out.emplace_back(RoleName(r));
  return out;
}

bool HoldsRole(const ActorKeys::Key& k, fb::Role role) {
  return std::find(k.roles.begin(), k.roles.end(), role) != k.roles.end();
}

}  // namespace

void Service::AddKeyRoutes() {
  AddGet("/v1/actor-keys", kAnyStaff,
         "People's signing keys: key id, actor, roles, the entries that registered and revoked "
         "them, and from which entry on signing is required",
         {}, &Service::ListActorKeys);
  AddPost("/v1/actor-keys", kAdmin,
          "Register a person's signing key: {actor, public_key (base64), roles? (default: the "
          "account's role), document?}",
          fb::EventType::ActorKeyRegistered, {},
          [](Service& s, Context& c) { return s.RegisterActorKey(c); });
  AddPost("/v1/actor-keys/{key_id}/revoke", kAdmin, "Revoke a signing key: {reason}",
          fb::EventType::ActorKeyRevoked, {},
          [](Service& s, Context& c) { return s.RevokeActorKey(c); });
  AddPost("/v1/sessions/current/key", kAnyStaff,
          "Hand in the public key this browser made for the session's person ({public_key}, "
          "base64): a request an admin registers or not",
          fb::EventType::Unknown, {}, [](Service& s, Context& c) { return s.EnrollKey(c); });
}

json::object Service::SigningJson(const Principal& who) const {
  return ledger_.domain().Read([&](const DomainState& s) {
    json::array keys;
    for (const auto& [id, k] : s.keys.keys()) {
      if (k.actor == who.actor && !k.revoked_index && HoldsRole(k, who.role))
        keys.push_back(json::string(id));
    }
    return json::object{{"required", s.keys.signing_required()},
                        {"origin", ledger_.log().origin()},
                        {"key_ids", std::move(keys)}};
  });
}

HttpResponse Service::ListActorKeys(Context&) {
  return ReadJson([&](const DomainState& s) -> Result<json::object> {
    json::array keys;
    for (const auto& [id, k] : s.keys.keys()) {
      json::object o{{"key_id", id},
                     {"actor", k.actor},
                     {"roles", RoleArray(k.roles)},
                     {"registered_index", k.registered_index}};
      if (k.revoked_index) o["revoked_index"] = *k.revoked_index;
      keys.push_back(std::move(o));
    }
    json::object out{{"keys", std::move(keys)}, {"signing_required", s.keys.signing_required()}};
    if (s.keys.required_from()) out["signing_required_from"] = *s.keys.required_from();
    return out;
  });
}

HttpResponse Service::RegisterActorKey(Context& c) {
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  Result<std::string> actor_text = body->String("actor");
  if (!actor_text.ok()) return ErrorResponse(actor_text.status());
  Result<std::string> actor = NormalizeActor(*actor_text, "actor");
  if (!actor.ok()) return ErrorResponse(actor.status());
  Result<Ed25519PublicKey> key = PublicKeyField(*body);
  if (!key.ok()) return ErrorResponse(key.status());
  Result<std::string> document = body->String("document");
  if (!document.ok()) return ErrorResponse(document.status());
  std::vector<fb::Role> roles;
  if (const json::value* given = body->object().if_contains("roles")) {
    const json::array* list = given->if_array();
    for (size_t i = 0; list != nullptr && i < list->size(); ++i) {
      Result<fb::Role> r = (*list)[i].is_string() ? RoleFromName((*list)[i].get_string())
                                                  : Result<fb::Role>(InvalidArgument("not a name"));
      if (!r.ok()) return ErrorResponse(Status(r.status()).WithField("roles"));
      roles.push_back(*r);
    }
    if (list == nullptr || roles.empty())
      return ErrorResponse(
          InvalidArgument("roles must be a list of role names").WithField("roles"));
  } else if (accounts_ != nullptr) {  // the account's role
    Result<std::vector<StaffAccount>> all = accounts_->List();
    if (!all.ok()) return ErrorResponse(all.status());
    for (const StaffAccount& a : *all) {
      if (a.name == *actor) roles.push_back(*RoleFromName(a.role));
    }
  }
  if (roles.empty())
    return ErrorResponse(
        InvalidArgument("no account '" + *actor + "': name its roles").WithField("roles"));
  Result<Actor> admin = CommandActor(c);
  if (!admin.ok()) return ErrorResponse(admin.status());
  Result<AppendResult> r = ledger_.RegisterKey(*admin, c.request.idempotency_key, *actor,
                                               std::move(roles), *key, *document);
  if (!r.ok()) return ErrorResponse(r.status());
  return Committed(*r, json::object{{"key_id", ActorKeyId(*key)}});
}

HttpResponse Service::RevokeActorKey(Context& c) {
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  Result<std::string> reason = body->String("reason");
  if (!reason.ok()) return ErrorResponse(reason.status());
  Result<Actor> admin = CommandActor(c);
  if (!admin.ok()) return ErrorResponse(admin.status());
  Result<AppendResult> r =
      ledger_.RevokeKey(*admin, c.request.idempotency_key, c.params["key_id"], *reason);
  if (!r.ok()) return ErrorResponse(r.status());
  return Committed(*r, json::object{{"key_id", c.params["key_id"]}});
}

HttpResponse Service::EnrollKey(Context& c) {
  if (accounts_ == nullptr || !c.request.authorization.empty()) {
    return ErrorResponse(InvalidArgument(
        "only a console session hands in a browser's key; a token's client keeps its key in a "
        "file (fundledger keygen) that an admin registers"));
  }
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  Result<Ed25519PublicKey> key = PublicKeyField(*body);
  if (!key.ok()) return ErrorResponse(key.status());
  const std::string id = ActorKeyId(*key);
  std::optional<ActorKeys::Key> known = ledger_.domain().Read([&](const DomainState& s) {
    auto it = s.keys.keys().find(id);
    return it == s.keys.keys().end() ? std::nullopt : std::optional<ActorKeys::Key>(it->second);
  });
  std::string holder = known ? known->actor : std::string();
  if (!holder.empty() && holder != c.who.actor)
    return ErrorResponse(
        Conflict("the key " + id + " is registered to someone else").WithField("public_key"));
  if (known && known->revoked_index) {  // the console then makes a new key
    return ErrorResponse(
        Conflict("the key " + id + " was revoked; a new one is needed").WithField("public_key"));
  }
  if (holder.empty()) {
    Status set = accounts_->SetEnrollingKey(
        c.who.actor, Base64Encode(ByteView(key->data(), key->size())), NowMs());
    if (!set.ok()) return ErrorResponse(set);
  }
  return JsonResponse(
      holder.empty() ? 201 : 200,
      json::serialize(
          json::object{{"key_id", id}, {"status", holder.empty() ? "enrolling" : "registered"}}));
}

}  // namespace fundledger
