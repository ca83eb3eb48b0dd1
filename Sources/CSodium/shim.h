// libsodium (Debian libsodium-dev): Argon2id password hashing, HMAC-SHA-256, random bytes.
#include <sodium.h>
