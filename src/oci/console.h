// terminal: true — the container's process gets a new pseudo-terminal from
// the container's own devpts; the master end is handed to whoever listens on
// --console-socket (conmon, containerd's shim) as SCM_RIGHTS, as runc does.
// Thread-safety: changes the calling process's session and stdio.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace oci {

// Connects to the console socket (done by the runtime before the container starts).
base::Result<base::UniqueFd> connect_console_socket(const std::string& path);
// In the container, after its root is in place: opens a pty, binds its slave
// on /dev/console when `bind_dev_console`, sends the master over `socket_fd`,
// and makes the slave the controlling terminal and stdio of this process.
// `rows` and `cols`, when not 0, are the pty's size before the program starts.
base::Status setup_terminal(int socket_fd, bool bind_dev_console, uint16_t rows = 0,
                            uint16_t cols = 0);
// Without a terminal of its own, the container's process still leaves the
// caller's session (as runc's init does): the caller's controlling terminal is
// then not the container's, so /dev/tty does not open and TIOCSTI on an
// inherited terminal fd is refused without CAP_SYS_ADMIN.
base::Status leave_caller_session();

}  // namespace oci
