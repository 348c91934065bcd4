package controllers

import "time"

// credentialsRetryInterval is how often a token whose credentials or signing key
// Secret is missing or incomplete looks again.
const credentialsRetryInterval = time.Minute

// authRetryInterval is how often a token whose credentials were refused tries
// them again, in case the fix escaped the watch: seldom enough that a wrong
// password does not lock the account.
const authRetryInterval = 10 * time.Minute
