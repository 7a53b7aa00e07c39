/**
 * Captured OS output for the pure parsers. The /proc/net texts were captured on a Linux
 * x86_64 (little-endian) machine with node listeners on 127.0.0.1:3000, [::1]:30000,
 * [::ffff:127.0.0.1]:300, [::]:8080, 0.0.0.0:5432, UDP 0.0.0.0:5353 and [::1]:5354, plus
 * one established client connection to 3000; the uid of two rows was edited to 1000
 * and one TIME_WAIT row added. The lsof text is written as macOS lsof 4.91 prints it.
 */

export const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 36455 1 0000000097fba40c 100 0 0 10 0                     
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1060 1 00000000cc8ab8bf 100 0 0 10 0                      
   2: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 36451 1 0000000082e98c93 100 0 0 10 0                     
   3: 0100007F:8B3F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 35447 1 0000000034d163f9 100 0 0 10 0                     
   4: 0100007F:0BB8 0100007F:94F6 01 00000000:00000000 00:00000000 00000000     0        0 36461 1 00000000e4f50db3 20 0 0 10 -1                     
   5: 0100007F:94F6 0100007F:0BB8 01 00000000:00000000 00:00000000 00000000     0        0 36460 1 00000000719ebf60 20 0 0 10 -1                     
   6: 0100007F:C350 0100007F:0BB8 06 00000000:00000000 03:00000C8B 00000000     0        0 0 3 000000004df2f9d0                                      
`;

export const PROC_NET_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:9375 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 35446 1 000000007edfdea0 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 36454 1 0000000099255698 100 0 0 10 0
   2: 00000000000000000000000001000000:7530 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 36452 1 000000004175ff79 100 0 0 10 0
   3: 00000000000000000000000001000000:898F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 35448 1 000000008439bbc6 100 0 0 10 0
   4: 0000000000000000FFFF00000100007F:012C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 36453 1 00000000e08c323a 100 0 0 10 0
`;

export const PROC_NET_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 5447: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 36458 2 00000000e981738f 0         
15347: 0100007F:BB95 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 35449 2 00000000e40c3c09 0         
15348: 0100007F:BB96 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 35450 2 00000000e40c3c0a 0         
`;

export const PROC_NET_UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 5448: 00000000000000000000000001000000:14EA 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 36459 2 000000009bd452e4 0
`;

/**
 * `lsof -nP -iTCP -sTCP:LISTEN -FpcfnuLPTt` on macOS: ControlCenter (AirPlay receiver on
 * 5000/7000, both families), a node dev server on [::1]:3000 and 127.0.0.1:30000 (fd 24
 * dup'd as fd 25), Docker Desktop's backend publishing 8080, postgres on a scoped
 * link-local address, and a process lsof could name only by uid.
 */
export const LSOF_MACOS_TCP = `p612
cControlCenter
u501
Lalice
f9
tIPv4
PTCP
n*:7000
TST=LISTEN
TQR=0
TQS=0
f10
tIPv6
PTCP
n*:7000
TST=LISTEN
TQR=0
TQS=0
f11
tIPv4
PTCP
n*:5000
TST=LISTEN
TQR=0
TQS=0
p48213
cnode
u501
Lalice
f23
tIPv6
PTCP
n[::1]:3000
TST=LISTEN
TQR=0
TQS=0
f24
tIPv4
PTCP
n127.0.0.1:30000
TST=LISTEN
TQR=0
TQS=0
f25
tIPv4
PTCP
n127.0.0.1:30000
TST=LISTEN
TQR=0
TQS=0
p1733
ccom.docker.backend
u501
Lalice
f112
tIPv6
PTCP
n*:8080
TST=LISTEN
TQR=0
TQS=0
p911
cpostgres
u502
L_postgres
f7
tIPv6
PTCP
n[fe80:1::1]:5432
TST=LISTEN
TQR=0
TQS=0
p3301
cjava
u503
f51
tIPv6
PTCP
n*:8443
TST=LISTEN
TQR=0
TQS=0
`;

/** `lsof -nP -iUDP -FpcfnuLPTt` on macOS: mDNSResponder, and a client socket with a peer (not a listener). */
export const LSOF_MACOS_UDP = `p401
cmDNSResponder
u65
L_mdnsresponder
f8
tIPv4
PUDP
n*:5353
TQR=0
TQS=0
f9
tIPv6
PUDP
n*:5353
TQR=0
TQS=0
f12
tIPv4
PUDP
n192.168.1.20:61702->192.168.1.1:53
TQR=0
TQS=0
f13
tIPv4
PUDP
n*:*
TQR=0
TQS=0
`;

/** Real lsof 4.95 on Linux (`-FpcnuLPTt`, no `f`): file sets are told apart by repeating fields. */
export const LSOF_LINUX_NO_FD = `p10593
cnode
u0
Lroot
tIPv6
PTCP
n*:37749
TST=LISTEN
TQR=0
TQS=0
tIPv4
PTCP
n127.0.0.1:35647
TST=LISTEN
TQR=0
TQS=0
tIPv6
PTCP
n[::1]:35215
TST=LISTEN
TQR=0
TQS=0
`;

/** `GET /containers/json` from podman 4.3's Docker-compatible service (captured). */
export const PODMAN_CONTAINERS_JSON = `[{"Id":"5bd514207e2f6998751f3e945dc3b1b31f6fce531f34e9182a060746fb403861","Names":["/web1"],"Image":"localhost/bb:latest","ImageID":"sha256:aa86801225a7d02970735409a7d12b90b3dc63b522de7842f8698cc1965b0299","Command":"/bin/httpd -f -p 8080","Created":1795473436,"Ports":[{"IP":"127.0.0.1","PrivatePort":8080,"PublicPort":18080,"Type":"tcp"}],"Labels":{},"State":"running","Status":"Up 2 seconds","NetworkSettings":{"Networks":{"podman":{"IPAMConfig":null,"Links":null,"Aliases":["5bd514207e2f"],"NetworkID":"podman","EndpointID":"","Gateway":"10.88.0.1","IPAddress":"10.88.0.2","IPPrefixLen":16,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"66:84:55:ff:ef:21","DriverOpts":null}}},"Mounts":[],"Name":"","Config":null,"NetworkingConfig":null,"Platform":null,"AdjustCPUShares":false}]`;

/**
 * `GET /containers/json` as Docker 24 answers it: a compose database published on both
 * families, a container that only exposes a port, and a UDP publish on loopback.
 */
export const DOCKER_CONTAINERS_JSON = `[
 {"Id":"8dfafdbc3a40b4a0fa0bb4c9bd76a7d5c2b5ec9b3e5cbb7f6e3c1d0a9b8c7d6e","Names":["/shop-db-1"],"Image":"postgres:16","ImageID":"sha256:1f5d9a54ed7c","Command":"docker-entrypoint.sh postgres","Created":1700000000,
  "Ports":[{"IP":"0.0.0.0","PrivatePort":5432,"PublicPort":5433,"Type":"tcp"},{"IP":"::","PrivatePort":5432,"PublicPort":5433,"Type":"tcp"}],
  "Labels":{"com.docker.compose.project":"shop","com.docker.compose.service":"db"},"State":"running","Status":"Up 2 hours","HostConfig":{"NetworkMode":"shop_default"}},
 {"Id":"b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3","Names":["/cache"],"Image":"redis:7","Command":"redis-server","Created":1700000100,
  "Ports":[{"PrivatePort":6379,"Type":"tcp"}],"Labels":{},"State":"running","Status":"Up 5 minutes"},
 {"Id":"c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4","Names":["/dns"],"Image":"coredns/coredns:1.11.1","Command":"/coredns","Created":1700000200,
  "Ports":[{"IP":"127.0.0.1","PrivatePort":53,"PublicPort":1053,"Type":"udp"},{"IP":"127.0.0.1","PrivatePort":9153,"PublicPort":9153,"Type":"sctp"}],"Labels":{},"State":"running","Status":"Up 1 minute"}
]`;
