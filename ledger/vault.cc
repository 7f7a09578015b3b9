#include "ledger/vault.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "crypto/sha256.h"

namespace fundledger {
namespace {

constexpr size_t kMasterSecretBytes = 32;
constexpr size_t kFieldBytesMax = 256;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

void PutField(std::string& out, const std::string& v) {
  uint8_t len[4];
  PutBigEndian32(static_cast<uint32_t>(v.size()), len);
  out.append(reinterpret_cast<const char*>(len), 4);
  out += v;
}

Result<std::string> GetField(std::string_view& in) {
  if (in.size() < 4) return Corruption("vault record is truncated");
  uint32_t len = GetBigEndian32(reinterpret_cast<const uint8_t*>(in.data()));
  if (in.size() < 4 + len) return Corruption("vault record is truncated");
  std::string v(in.substr(4, len));
  in.remove_prefix(4 + len);
  return v;
}

// The form every hash of an ID number is taken over: trimmed, 'x' -> 'X'.
std::string NormalIdNumber(std::string_view id_number) {
  std::string n = Trim(id_number);
  for (char& c : n) {
    if (c == 'x') c = 'X';
  }
  return n;
}

std::string IndexRow(const Hash& lookup) { return "i/" + HexEncode(lookup); }

}  // namespace

Status CheckIdNumber(std::string_view id) {
  static constexpr int kWeights[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  if (id.size() != 18)
    return InvalidArgument("ID number must have 18 characters").WithField("id_number");
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (id[i] < '0' || id[i] > '9')
      return InvalidArgument("ID number must start with 17 digits").WithField("id_number");
    sum += (id[i] - '0') * kWeights[i];
  }
  char last = id[17] == 'x' ? 'X' : id[17];
  if (last != kCheck[sum % 11]) {
    return InvalidArgument("ID number check character is wrong (a typing mistake?)")
        .WithField("id_number");
  }
  return Status::Ok();
}

std::string VaultKeyDir(const std::string& data_dir) {
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".keys";
}

VaultKeyLocation ResolveVaultKey(const std::string& data_dir, const std::string& given) {
  using Source = VaultKeyLocation::Source;
  if (!given.empty()) return {given, Source::kGiven};
  const char* env = std::getenv(kVaultKeyEnv);
  if (env != nullptr && *env != '\0') return {env, Source::kEnvironment};
  std::string inside = data_dir + "/vault.key";
  std::error_code ec;
  if (std::filesystem::exists(inside, ec)) return {inside, Source::kInsideDataDir};
  return {VaultKeyDir(data_dir) + "/vault.key", Source::kDefault};
}

Result<Vault> Vault::Load(const std::string& path, bool create) {
  Bytes secret(kMasterSecretBytes);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return IoError("cannot create the vault key's directory " + dir + ": " +
                     std::strerror(errno));
    AeadKey fresh = RandomAeadKey();
    std::string hex = HexEncode(fresh) + "\n";
    int wfd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (wfd < 0) return IoError("cannot create vault key " + path + ": " + std::strerror(errno));
    bool ok = ::write(wfd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
              ::fsync(wfd) == 0;
    ::close(wfd);
    OPENSSL_cleanse(hex.data(), hex.size());
    if (!ok) return IoError("cannot write vault key " + path);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0 && errno == ENOENT) {
    return NotFound("no vault key at " + path +
                    ": the key is kept outside the data directory (DIR.keys/vault.key by default); "
                    "copy it beside a copied data directory, or name it with --vault-key or $" +
                    kVaultKeyEnv);
  }
  if (fd < 0) return IoError("cannot open vault key " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return InvalidArgument("vault key " + path + " is readable by others; run chmod 600 on it");
  }
  char buf[2 * kMasterSecretBytes + 8];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < static_cast<ssize_t>(2 * kMasterSecretBytes))
    return Corruption("vault key " + path + " is too short");
  Result<Bytes> decoded = HexDecode(std::string_view(buf, 2 * kMasterSecretBytes));
  OPENSSL_cleanse(buf, sizeof buf);
  if (!decoded.ok()) return Corruption("vault key " + path + " is not hex");
  Vault v;
  Hash wrap = HmacSha256(*decoded, AsBytes("fundledger vault wrap v1"));
  std::copy(wrap.begin(), wrap.end(), v.wrap_key_.begin());
  // Bank tokens keep the key they were first made under, so an account already in the log is
  // recognised; the ID lookup key is its own, and never reaches the log.
  Hash bank = HmacSha256(*decoded, AsBytes("fundledger commitment v1"));
  v.bank_key_.assign(bank.begin(), bank.end());
  Hash lookup = HmacSha256(*decoded, AsBytes("fundledger id lookup v2"));
  v.lookup_key_.assign(lookup.begin(), lookup.end());
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return v;
}

Hash Vault::IdCommitment(ByteView salt, std::string_view id_number) {
  assert(salt.size() == kSaltBytes);
  std::string n = NormalIdNumber(id_number);
  static constexpr std::string_view kDomain("fundledger id v2\0", 17);
  Sha256 h;
  h.Update(AsBytes(kDomain)).Update(salt).Update(AsBytes(n));
  OPENSSL_cleanse(n.data(), n.size());
  return h.Finish();
}

Hash Vault::IdLookup(std::string_view id_number) const {
  std::string n = NormalIdNumber(id_number);
  Hash lookup = HmacSha256(lookup_key_, AsBytes("id:" + n));
  OPENSSL_cleanse(n.data(), n.size());
  return lookup;
}

Hash Vault::BankToken(std::string_view account) const {
  std::string digits;
  for (char c : account) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return HmacSha256(bank_key_, AsBytes("bank:" + digits));
}

Result<Vault::SealedPerson> Vault::Seal(std::string_view subject, const PersonalData& d) const {
  for (const std::string* f : {&d.name, &d.id_number, &d.bank_account, &d.phone}) {
    if (f->size() > kFieldBytesMax)
      return InvalidArgument("a personal field is longer than 256 bytes");
  }
  AeadKey salt = RandomAeadKey();  // 32 random bytes, like a key
  static_assert(sizeof(salt) == kSaltBytes);
  std::string record;
  PutField(record, d.name);
  PutField(record, d.id_number);
  PutField(record, d.bank_account);
  PutField(record, d.phone);
  PutField(record, std::string(AsChars(ByteView(salt.data(), salt.size()))));
  AeadKey person = RandomAeadKey();
  std::string k = "k/" + std::string(subject), r = "d/" + std::string(subject);
  Result<Bytes> sealed_key = AeadSeal(wrap_key_, person, AsBytes(k));
  Result<Bytes> sealed_record = AeadSeal(person, AsBytes(record), AsBytes(r));
  SealedPerson sealed;
  if (!d.id_number.empty()) sealed.id_commitment = IdCommitment(salt, d.id_number);
  OPENSSL_cleanse(salt.data(), salt.size());
  OPENSSL_cleanse(person.data(), person.size());
  OPENSSL_cleanse(record.data(), record.size());
  if (!sealed_key.ok()) return sealed_key.status();
  if (!sealed_record.ok()) return sealed_record.status();
  sealed.writes = {{k, std::string(AsChars(*sealed_key))},
                   {r, std::string(AsChars(*sealed_record))}};
  if (!d.id_number.empty())
    sealed.writes.push_back({IndexRow(IdLookup(d.id_number)), std::string(subject)});
  return sealed;
}

Result<std::optional<std::string>> Vault::FindPerson(const Log& log,
                                                     std::string_view id_number) const {
  std::string subject;
  rocksdb::Status s = log.db()->Get(rocksdb::ReadOptions(), log.vault_column(),
                                    IndexRow(IdLookup(id_number)), &subject);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return IoError("cannot read the vault's index: " + s.ToString());
  return std::optional<std::string>(std::move(subject));
}

Result<std::vector<VaultWrite>> Vault::EraseWrites(const Log& log, std::string_view subject) const {
  std::vector<VaultWrite> writes{{"k/" + std::string(subject), ""},
                                 {"d/" + std::string(subject), ""}};
  // Without a readable record the index row cannot be found; the rest is erased regardless.
  Result<PersonalData> record = Read(log, subject);
  if (!record.ok()) return writes;
  if (!record->id_number.empty()) {
    FL_ASSIGN_OR_RETURN(std::optional<std::string> holder, FindPerson(log, record->id_number));
    if (holder == subject) writes.push_back({IndexRow(IdLookup(record->id_number)), ""});
  }
  OPENSSL_cleanse(record->id_number.data(), record->id_number.size());
  return writes;
}

Result<PersonalData> Vault::Read(const Log& log, std::string_view subject) const {
  std::string k = "k/" + std::string(subject), r = "d/" + std::string(subject);
  std::string sealed_key, sealed_record;
  rocksdb::Status s1 = log.db()->Get(rocksdb::ReadOptions(), log.vault_column(), k, &sealed_key);
  rocksdb::Status s2 = log.db()->Get(rocksdb::ReadOptions(), log.vault_column(), r, &sealed_record);
  if (s1.IsNotFound() || s2.IsNotFound()) {
    return NotFound("no personal data for '" + std::string(subject) +
                    "' (never stored, or erased)");
  }
  if (!s1.ok() || !s2.ok()) return IoError("cannot read the vault");
  Result<Bytes> key_bytes = AeadOpen(wrap_key_, AsBytes(sealed_key), AsBytes(k));
  if (!key_bytes.ok() || key_bytes->size() != kAeadKeyBytes)
    return Corruption("vault key of '" + std::string(subject) + "' does not open");
  AeadKey person;
  std::copy(key_bytes->begin(), key_bytes->end(), person.begin());
  Result<Bytes> record = AeadOpen(person, AsBytes(sealed_record), AsBytes(r));
  OPENSSL_cleanse(person.data(), person.size());
  if (!record.ok())
    return Corruption("vault record of '" + std::string(subject) + "' does not open");
  std::string_view in = AsChars(*record);
  PersonalData d;
  FL_ASSIGN_OR_RETURN(d.name, GetField(in));
  FL_ASSIGN_OR_RETURN(d.id_number, GetField(in));
  FL_ASSIGN_OR_RETURN(d.bank_account, GetField(in));
  FL_ASSIGN_OR_RETURN(d.phone, GetField(in));
  if (!in.empty()) {
    FL_ASSIGN_OR_RETURN(std::string salt, GetField(in));
    if (salt.size() != kSaltBytes)
      return Corruption("vault record of '" + std::string(subject) + "' has a bad salt");
  }
  return d;
}

}  // namespace fundledger
