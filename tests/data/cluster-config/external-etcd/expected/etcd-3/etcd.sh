#!/bin/sh
##
# etcd member etcd-3/10.0.1.3 of cluster "store" (external store)
# Rendered by cluster-config from the cluster spec; the same flags as etcd.service.
##

exec /usr/bin/etcd \
  --advertise-client-urls=https://10.0.1.3:2379 \
  --listen-client-urls=https://10.0.1.3:2379 \
  --listen-peer-urls=https://10.0.1.3:2380 \
  --initial-cluster=etcd-1=https://10.0.1.1:2380,etcd-2=https://10.0.1.2:2380,etcd-3=https://10.0.1.3:2380 \
  --initial-advertise-peer-urls=https://10.0.1.3:2380 \
  --initial-cluster-state=new \
  --initial-cluster-token=trellis-store-1 \
  --name=etcd-3 \
  --cert-file=/etc/trellis/etcd-3.pem \
  --key-file=/etc/trellis/etcd-3-key.pem \
  --trusted-ca-file=/etc/trellis/ca.pem \
  --client-cert-auth=true \
  --client-crl-file=/etc/trellis/ca-crl.pem \
  --peer-cert-file=/etc/trellis/etcd-3-peer.pem \
  --peer-key-file=/etc/trellis/etcd-3-peer-key.pem \
  --peer-trusted-ca-file=/etc/trellis/peer-ca.pem \
  --peer-client-cert-auth=true \
  --peer-crl-file=/etc/trellis/peer-ca-crl.pem \
  --cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305 \
  --heartbeat-interval=100 \
  --election-timeout=1000 \
  --quota-backend-bytes=4294967296 \
  --max-request-bytes=1572864 \
  --log-level=warn \
  --logger=zap \
  --data-dir=/var/lib/trellis/etcd
