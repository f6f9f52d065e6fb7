#include "ferry/tls.h"

#include <poll.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "base/sys.h"
#include "ferry/handshake.h"

namespace ferry::tls {
namespace sys = base::sys;

Psk psk_from_token(std::string_view token) {
  Psk out{};
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  static const char kSalt[] = "ferry protocol 2";
  static const char kInfo[] = "tls13 external psk";
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt), sizeof kSalt - 1),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<char*>(token.data()), token.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(kInfo), sizeof kInfo - 1),
                         OSSL_PARAM_construct_end()};
  // HKDF with SHA-256 and a 32-byte output cannot fail for any input; an
  // empty token is refused before this point (an empty key is still a key).
  (void)EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  return out;
}

namespace {

// The TLS 1.3 suites ferry offers, fastest first for this CPU.
const char* cipher_suites() {
#if defined(__x86_64__) || defined(__i386__)
  bool aes = __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
#elif defined(__aarch64__)
  bool aes = (getauxval(AT_HWCAP) & (1UL << 3)) != 0;  // HWCAP_AES
#else
  bool aes = false;
#endif
  return aes ? "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"
             : "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
}

// The PSK as an OpenSSL session (which takes ownership of it), or nullptr
// when the handshake's hash is not SHA-256.
SSL_SESSION* psk_session(SSL* ssl, const Psk& psk, const EVP_MD* md) {
  static const unsigned char kAes128GcmSha256[] = {0x13, 0x01};
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  if (cipher == nullptr) return nullptr;
  if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(cipher)) return nullptr;
  SSL_SESSION* s = SSL_SESSION_new();
  if (s == nullptr) return nullptr;
  if (SSL_SESSION_set1_master_key(s, psk.data(), psk.size()) != 1 ||
      SSL_SESSION_set_cipher(s, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

// OpenSSL's first queued error, as text.
std::string openssl_reason(unsigned long code) {
  const char* r = ERR_reason_error_string(code);
  return r ? r : fmt::format("OpenSSL error {:#x}", code);
}

}  // namespace

struct Context::Impl {
  Role role;
  Psk psk;
  SSL_CTX* ctx = nullptr;
  ~Impl() { SSL_CTX_free(ctx); }
};

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

namespace {
Context::Impl* impl_of(SSL* ssl) {
  return static_cast<Context::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}

int use_psk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen,
            SSL_SESSION** sess) {
  *sess = psk_session(ssl, impl_of(ssl)->psk, md);
  *id = reinterpret_cast<const unsigned char*>(kPskIdentity.data());
  *idlen = kPskIdentity.size();
  return 1;
}

int find_psk(SSL* ssl, const unsigned char* identity, size_t len, SSL_SESSION** sess) {
  std::string_view offered(reinterpret_cast<const char*>(identity), len);
  *sess = offered == kPskIdentity ? psk_session(ssl, impl_of(ssl)->psk, nullptr) : nullptr;
  return 1;
}
}  // namespace

base::Result<std::shared_ptr<Context>> Context::make(Role role, std::string_view token) {
  if (token.empty()) return base::fail_msg("no token: TLS needs the shared token as its key");
  auto impl = std::make_unique<Impl>();
  impl->role = role;
  impl->psk = psk_from_token(token);
  impl->ctx = SSL_CTX_new(role == Role::kClient ? TLS_client_method() : TLS_server_method());
  if (impl->ctx == nullptr)
    return base::fail_msg(fmt::format("TLS: {}", openssl_reason(ERR_get_error())));
  SSL_CTX* c = impl->ctx;
  SSL_CTX_set_app_data(c, impl.get());
  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(c, cipher_suites()) != 1 ||
      SSL_CTX_set1_groups_list(c, "X25519:P-256") != 1)
    return base::fail_msg(fmt::format("TLS setup: {}", openssl_reason(ERR_get_error())));
  // Not SSL_OP_ALLOW_NO_DHE_KEX: a PSK alone (psk_ke) is never accepted.
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (role == Role::kClient) {
    // No trust store: a server that shows a certificate instead of using the
    // PSK fails verification.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_psk_use_session_callback(c, use_psk);
  } else {
    SSL_CTX_set_psk_find_session_callback(c, find_psk);
  }
  return std::shared_ptr<Context>(new Context(std::move(impl)));
}

namespace {

// The socket under an SSL object, reached through base::sys so that failures
// keep their errno. It batches in both directions: a TLS record is at most
// 16 KiB, and a read(2) or write(2) for each would cost more than the
// encryption. Records written collect in `out` until it holds kBatch bytes or
// the transport drains it (a handshake flight waits there until its step is
// over; a server's answer to a wrong token, until the delay). Reads fill `in` a batch at a
// time and hand OpenSSL what it asks for (read-ahead off, so no more).
struct SocketIo {
  static constexpr size_t kBatch = size_t{256} << 10;
  int fd = -1;
  std::string out;
  size_t out_sent = 0;
  std::unique_ptr<char[]> in{new char[kBatch]};
  size_t in_begin = 0;
  size_t in_end = 0;
  std::optional<base::Error> error;  // why the last read or write failed

  // Writes what `out` holds; false when the socket is full (EAGAIN).
  base::Result<bool> drain() {
    while (out_sent < out.size()) {
      auto n = sys::write(fd, out.data() + out_sent, out.size() - out_sent);
      if (!n && (n.error().code() == EAGAIN || n.error().code() == EWOULDBLOCK)) return false;
      if (!n) return base::fail(std::move(n).error());
      out_sent += *n;
    }
    out.clear();
    out_sent = 0;
    return true;
  }
};

int bio_write(BIO* b, const char* data, int len) {
  auto* io = static_cast<SocketIo*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (io->out.size() - io->out_sent >= SocketIo::kBatch) {
    auto drained = io->drain();
    if (!drained) {
      io->error = std::move(drained).error();
      return -1;
    }
    if (!*drained && io->out.size() - io->out_sent >= SocketIo::kBatch) {
      BIO_set_retry_write(b);
      return -1;
    }
  }
  io->out.append(data, static_cast<size_t>(len));
  return len;
}

int bio_read(BIO* b, char* data, int len) {
  auto* io = static_cast<SocketIo*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (io->in_begin == io->in_end) {
    auto n = sys::read(io->fd, io->in.get(), SocketIo::kBatch);
    if (!n && (n.error().code() == EAGAIN || n.error().code() == EWOULDBLOCK)) {
      BIO_set_retry_read(b);
      return -1;
    }
    if (!n) {
      io->error = std::move(n).error();
      return -1;
    }
    io->in_begin = 0;
    io->in_end = *n;
    if (*n == 0) return 0;
  }
  size_t give = std::min(static_cast<size_t>(len), io->in_end - io->in_begin);
  std::memcpy(data, io->in.get() + io->in_begin, give);
  io->in_begin += give;
  return static_cast<int>(give);
}

long bio_ctrl(BIO* /*b*/, int cmd, long /*num*/, void* /*ptr*/) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ferry socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    return m;
  }();
  return method;
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(base::UniqueFd fd, std::string peer, std::chrono::milliseconds timeout,
               std::shared_ptr<Context> context)
      : fd_(std::move(fd)),
        peer_(std::move(peer)),
        timeout_(timeout),
        context_(std::move(context)) {
    io_.fd = fd_.get();
  }
  ~TlsTransport() override { SSL_free(ssl_); }
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  base::Status handshake();

  base::Result<size_t> read_some(void* buf, size_t len) override;
  base::Status write_all(const void* buf, size_t len) override;
  int socket_fd() const override { return fd_.get(); }
  const std::string& peer() const override { return peer_; }
  std::string protection() const override { return protection_; }

 private:
  // Waits until the socket can do what OpenSSL asked for (`ssl_error`).
  base::Status wait_for(int ssl_error, bool reading);
  // Sends every record written so far (waiting for room as needed).
  base::Status send_out();
  base::Error failure(int ssl_error, unsigned long code, std::string_view during);
  base::Error handshake_failure(int ssl_error, unsigned long code);

  base::UniqueFd fd_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Context> context_;
  std::mutex mu_;  // every call on ssl_ and io_
  SSL* ssl_ = nullptr;
  SocketIo io_;
  std::string protection_;
};

base::Status TlsTransport::wait_for(int ssl_error, bool reading) {
  short events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
  short ready = TRY(sys::poll_one(fd_.get(), events, static_cast<int>(timeout_.count())));
  if (ready == 0) return base::fail(stalled_error(peer_, timeout_, reading));
  return {};  // ready, or an error/hangup the next call reports
}

base::Status TlsTransport::send_out() {
  for (;;) {
    auto drained = io_.drain();
    if (!drained) return base::fail(std::move(drained).error().context("send over TLS"));
    if (*drained) return {};
    TRY_STATUS(wait_for(SSL_ERROR_WANT_WRITE, false));
  }
}

base::Error TlsTransport::failure(int ssl_error, unsigned long code, std::string_view during) {
  if (ssl_error == SSL_ERROR_SYSCALL && io_.error)
    return std::move(*io_.error).context(std::string(during));
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN)
    return base::Error::coded(ECONNRESET, fmt::format("connection closed by {}", peer_));
  return base::Error::coded(
      EPROTO, fmt::format("{} with {} failed: {}", during, peer_, openssl_reason(code)));
}

base::Error TlsTransport::handshake_failure(int ssl_error, unsigned long code) {
  bool client = context_->impl().role == Role::kClient;
  int reason = ERR_GET_REASON(code);
  if (ssl_error == SSL_ERROR_SSL && client &&
      (reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR || reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER))
    return base::Error::msg(
        fmt::format("{}: authentication failed: wrong or missing token (set FERRY_TOKEN or "
                    "--token)",
                    peer_));
  if (ssl_error == SSL_ERROR_SSL && !client && reason == SSL_R_BINDER_DOES_NOT_VERIFY)
    return base::Error::msg("authentication failed: wrong or missing token");
  bool reset = io_.error && io_.error->code() == ECONNRESET;
  if (client && (ssl_error == SSL_ERROR_ZERO_RETURN ||
                 (ssl_error == SSL_ERROR_SYSCALL && (!io_.error || reset))))
    // Not worth a reconnect: the same server will refuse the same way.
    return base::Error::coded(
        EPROTO,
        fmt::format("{} closed the connection in the TLS handshake: is it a ferry server of "
                    "protocol 2 (ferry 0.7 or later) started without --plaintext?",
                    peer_));
  if (client && ssl_error == SSL_ERROR_SSL && reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
    return base::Error::msg(
        fmt::format("{} answered with a certificate instead of proving it knows the token; "
                    "not trusted",
                    peer_));
  if (client && ssl_error == SSL_ERROR_SSL)
    return base::Error::coded(
        EPROTO, fmt::format("{}: TLS handshake failed ({}): not a ferry server of protocol 2 "
                            "(ferry 0.7 or later), or one started with --plaintext",
                            peer_, openssl_reason(code)));
  return failure(ssl_error, code, "TLS handshake");
}

base::Status TlsTransport::handshake() {
  std::lock_guard lock(mu_);
  Context::Impl& ctx = context_->impl();
  ssl_ = SSL_new(ctx.ctx);
  BIO* bio = ssl_ ? BIO_new(socket_method()) : nullptr;
  if (bio == nullptr)
    return base::fail_msg(fmt::format("TLS: {}", openssl_reason(ERR_get_error())));
  BIO_set_data(bio, &io_);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  TRY_STATUS(sys::set_nonblocking(fd_.get(), true));
  bool client = ctx.role == Role::kClient;
  for (;;) {
    ERR_clear_error();
    io_.error.reset();
    int r = client ? SSL_connect(ssl_) : SSL_accept(ssl_);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_NONE || e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      TRY_STATUS(send_out());
      if (e == SSL_ERROR_NONE) break;
      TRY_STATUS(wait_for(e, e == SSL_ERROR_WANT_READ));
      continue;
    }
    base::Error error = handshake_failure(e, ERR_peek_error());
    if (!client && !io_.out.empty()) {
      // The alert for a wrong token goes out only after the delay.
      std::this_thread::sleep_for(kWrongTokenDelay);
      (void)send_out();
    }
    return base::fail(std::move(error));
  }
  // The PSK was used (no certificate), with a key exchange beside it.
  if (SSL_session_reused(ssl_) != 1)
    return base::fail_msg(
        fmt::format("{} did not use the token's key in the TLS handshake; not trusted", peer_));
  int group = SSL_get_negotiated_group(ssl_);
  if (group == NID_undef || group == 0)
    return base::fail_msg(fmt::format("{}: TLS without a key exchange is refused", peer_));
  const char* group_name = OBJ_nid2sn(group & ~TLSEXT_nid_unknown);
  protection_ =
      fmt::format("{} {} psk_dhe_ke {}", SSL_get_version(ssl_),
                  SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_)), group_name ? group_name : "?");
  return {};
}

base::Result<size_t> TlsTransport::read_some(void* buf, size_t len) {
  for (;;) {
    int e;
    {
      std::lock_guard lock(mu_);
      ERR_clear_error();
      io_.error.reset();
      size_t n = 0;
      if (SSL_read_ex(ssl_, buf, len, &n) == 1) return n;
      e = SSL_get_error(ssl_, 0);
      if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !io_.error)) return size_t{0};
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return base::fail(failure(e, ERR_peek_error(), "receive over TLS"));
    }
    TRY_STATUS(wait_for(e, true));
  }
}

base::Status TlsTransport::write_all(const void* buf, size_t len) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (len > 0) {
    int e;
    {
      std::lock_guard lock(mu_);
      ERR_clear_error();
      io_.error.reset();
      size_t n = 0;
      if (SSL_write_ex(ssl_, p, len, &n) == 1) {
        p += n;
        len -= n;
        continue;
      }
      e = SSL_get_error(ssl_, 0);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return base::fail(failure(e, ERR_peek_error(), "send over TLS"));
    }
    TRY_STATUS(wait_for(e, false));
  }
  // The caller's bytes are on the socket when this returns.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      auto drained = io_.drain();
      if (!drained) return base::fail(std::move(drained).error().context("send over TLS"));
      if (*drained) return {};
    }
    TRY_STATUS(wait_for(SSL_ERROR_WANT_WRITE, false));
  }
}

}  // namespace

base::Result<std::unique_ptr<Transport>> establish(const std::shared_ptr<Context>& context,
                                                   base::UniqueFd fd, std::string peer,
                                                   std::chrono::milliseconds timeout) {
  auto t = std::make_unique<TlsTransport>(std::move(fd), std::move(peer), timeout, context);
  TRY_STATUS(t->handshake());
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace ferry::tls
