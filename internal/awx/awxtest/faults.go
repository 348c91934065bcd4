package awxtest

// Call kinds, for Calls and LoseNextReply (testserver.Faults, which Server embeds).
const (
	KindMe     = "me"
	KindCreate = "create"
	KindGet    = "get"
	KindUpdate = "update"
	KindDelete = "delete"
	KindList   = "list"
)
