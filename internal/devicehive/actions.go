package devicehive

// action is one row of DeviceHive's action table (HiveAction in the server).
type action struct {
	id    int
	name  string
	admin bool // not among the "client actions" an empty list grants
}

// anyActionID is "*": every action, admin ones included. It may appear in a
// token the server mints for an admin, never in a request of ours.
const anyActionID = 0

// actions is the whole table, in id order. Id 1 ("none") has no name and is
// what the server stores when a request omits the action list.
var actions = []action{
	{2, "GetNetwork", false},
	{3, "GetDevice", false},
	{4, "GetDeviceNotification", false},
	{5, "GetDeviceCommand", false},
	{6, "RegisterDevice", false},
	{7, "CreateDeviceCommand", false},
	{8, "UpdateDeviceCommand", false},
	{9, "CreateDeviceNotification", false},
	{10, "GetCurrentUser", false},
	{11, "UpdateCurrentUser", false},
	{12, "ManageUser", true},
	{13, "ManageConfiguration", true},
	{14, "ManageNetwork", true},
	{15, "ManageToken", false},
	{16, "ManagePlugin", false},
	{17, "GetDeviceType", false},
	{18, "ManageDeviceType", true},
}

// ManageTokenActionID is the action /token/create demands of its caller.
const ManageTokenActionID = 15

// MaxActionID is the highest action id the server knows; a token whose "a"
// holds a larger id is refused as a whole.
const MaxActionID = 18

// ActionID returns the id of a requestable action name. Names are matched
// exactly (case-sensitive), and "*" is not a requestable name.
func ActionID(name string) (int, bool) {
	for _, a := range actions {
		if a.name == name {
			return a.id, true
		}
	}
	return 0, false
}

// ActionName returns the name of an action id, "*" for id 0; false for id 1
// (no name) and unknown ids.
func ActionName(id int) (string, bool) {
	if id == anyActionID {
		return "*", true
	}
	for _, a := range actions {
		if a.id == id {
			return a.name, true
		}
	}
	return "", false
}

// ActionNames returns the 17 requestable names in id order.
func ActionNames() []string {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	return names
}

// IsAdminAction reports whether name is one of the admin actions that an
// empty action list does not grant (ManageUser, ManageConfiguration,
// ManageNetwork, ManageDeviceType).
func IsAdminAction(name string) bool {
	for _, a := range actions {
		if a.name == name {
			return a.admin
		}
	}
	return false
}

// IsPrivileged reports whether an action reaches beyond the devices a token is
// for: the admin actions, ManageToken (which mints tokens of any rights, as the
// server checks nothing more), ManagePlugin, and UpdateCurrentUser (which changes
// the user itself, its password included). DeviceHive cannot revoke a token, so
// such rights must be granted on purpose.
func IsPrivileged(name string) bool {
	return IsAdminAction(name) || name == "ManageToken" || name == "ManagePlugin" || name == "UpdateCurrentUser"
}
