/* tun.h: the TUN device packets reach hlb through. */
#ifndef HLB_TUN_H
#define HLB_TUN_H

/* Create (or attach to) TUN device name, non-blocking, no packet-info
 * header, and bring it up. Returns the fd or a negative errno. */
int tun_open(const char *name);

#endif
