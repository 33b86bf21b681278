#include <errno.h>
#include <sys/socket.h>
#include "CPteInspect.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int pti_socket_configure(struct mnl_socket *socket)
{
    int on = 1;

    if (mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, sizeof(on)) < 0)
        return -1;
    if (mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, sizeof(on)) < 0)
        return -1;
    if (mnl_socket_setsockopt(socket, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) < 0)
        return -1;
    return 0;
}
