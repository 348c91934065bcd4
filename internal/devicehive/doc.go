// Package devicehive talks to the DeviceHive auth service (REST client) and
// mints DeviceHive JWT access + refresh pairs offline (Signer).
//
// DeviceHive tokens cannot be revoked, and the server widens rights in ways a
// caller does not expect (an empty action list means every client action,
// unknown names are dropped silently). Every minting path therefore validates
// Rights before anything else, and no token value or signing key is ever
// printed: token values travel as Secret, which formats as "[redacted]".
// Wire facts: docs/devicehive-api.md.
package devicehive
