#include "test/support/certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cstdio>
#include <stdexcept>

namespace pgbr::test {
namespace {

struct FreeKey {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct FreeCert {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct FreeExtension {
  void operator()(X509_EXTENSION* ext) const noexcept { X509_EXTENSION_free(ext); }
};
struct CloseFile {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using Key = std::unique_ptr<EVP_PKEY, FreeKey>;
using Cert = std::unique_ptr<X509, FreeCert>;

[[noreturn]] void opensslFailed(const std::string& what) {
  char buffer[256] = "unknown error";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buffer, sizeof buffer);
  ERR_clear_error();
  throw std::runtime_error("test certificates: " + what + ": " + buffer);
}

void check(int ok, const std::string& what) {
  if (ok != 1) opensslFailed(what);
}

Key makeKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) opensslFailed("EC key generation");
  return key;
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, FreeExtension> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) opensslFailed("extension " + value);
  check(X509_add_ext(cert, ext.get(), -1), "add extension " + value);
}

bool isIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

Cert makeCert(EVP_PKEY* key, const std::string& cn, long serial, int fromDays, int toDays) {
  Cert cert(X509_new());
  if (!cert) opensslFailed("X509_new");
  check(X509_set_version(cert.get(), 2), "set version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(fromDays) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(toDays) * 86400);
  check(X509_set_pubkey(cert.get(), key), "set public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0),
        "set CN");
  return cert;
}

void writePem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "w"));
  if (!file) throw std::runtime_error("cannot write " + path.string());
  if (cert) check(PEM_write_X509(file.get(), cert), "write certificate");
  if (key) check(PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "write key");
}

}  // namespace

struct TestCa::Keys {
  Key key;
  Cert cert;
};

TestCa::TestCa(std::filesystem::path dir, const std::string& name)
    : dir_(std::move(dir)), keys_(std::make_unique<Keys>()) {
  std::filesystem::create_directories(dir_);
  keys_->key = makeKey();
  keys_->cert = makeCert(keys_->key.get(), name, serial_++, -1, 3650);
  X509* cert = keys_->cert.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(cert)), "set issuer");
  addExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, keys_->key.get(), EVP_sha256()) == 0) opensslFailed("sign CA");
  certFile_ = dir_ / "ca.crt";
  writePem(certFile_, cert, nullptr);
}

TestCa::~TestCa() = default;

CertFiles TestCa::issue(const CertRequest& request) {
  Key key = makeKey();
  Cert cert = makeCert(key.get(), request.commonName, serial_++, request.validFromDays, request.validToDays);
  X509* issuer = keys_->cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)), "set issuer");
  addExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  std::string usage;
  if (request.serverAuth) usage = "serverAuth";
  if (request.clientAuth) usage += usage.empty() ? "clientAuth" : ",clientAuth";
  if (!usage.empty()) addExtension(cert.get(), issuer, NID_ext_key_usage, usage);
  std::string san;
  for (const auto& host : request.hosts) {
    if (!san.empty()) san += ",";
    san += (isIpAddress(host) ? "IP:" : "DNS:") + host;
  }
  if (!san.empty()) addExtension(cert.get(), issuer, NID_subject_alt_name, san);
  addExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid");
  if (X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) == 0) opensslFailed("sign certificate");
  std::string stem = request.fileStem.empty() ? request.commonName : request.fileStem;
  CertFiles files{dir_ / (stem + ".crt"), dir_ / (stem + ".key")};
  writePem(files.cert, cert.get(), nullptr);
  writePem(files.key, nullptr, key.get());
  return files;
}

CertFiles TestCa::server(const std::string& commonName) {
  return issue({.commonName = commonName, .hosts = {"127.0.0.1", "localhost"}, .serverAuth = true});
}

CertFiles TestCa::client(const std::string& commonName) {
  return issue({.commonName = commonName, .clientAuth = true});
}

CertFiles TestCa::expiredClient(const std::string& commonName) {
  return issue({.commonName = commonName,
                .clientAuth = true,
                .validFromDays = -30,
                .validToDays = -1,
                .fileStem = commonName + "-expired"});
}

}  // namespace pgbr::test
