package config

// EmbeddedClusterSize is how many hosts of conf/workers run an embedded
// NATS server with natsEmbeddedCluster.
const EmbeddedClusterSize = 3

// validateNATSCluster checks natsReplicas, natsEmbeddedCluster and
// natsClusterPort against the rest of the NATS settings. What only the
// running NATS can tell (how many servers a natsUrl cluster has) is
// checked by `check` and `start`.
func (s *Sys) validateNATSCluster(c *checker) {
	if s.NATSEmbeddedCluster && len(s.NATSURLs) > 0 {
		c.errorf("natsEmbeddedCluster", "natsEmbeddedCluster=true runs embedded NATS servers, but natsUrl names an external NATS: set one of them")
	}
	if s.NATSEmbeddedCluster && s.NATSClusterPort == s.NATSPort {
		c.errorf("natsClusterPort", "natsClusterPort %d is also natsPort: the route port and the client port must differ", s.NATSClusterPort)
	}
	switch {
	case s.NATSReplicas > 1 && len(s.NATSURLs) == 0 && !s.NATSEmbeddedCluster:
		c.errorf("natsReplicas", "natsReplicas=%d needs a NATS cluster, but the embedded NATS server is alone: set natsReplicas=0 (automatic) or 1, or set natsEmbeddedCluster=true, or point natsUrl at a cluster", s.NATSReplicas)
	case s.NATSReplicas > EmbeddedClusterSize && s.NATSEmbeddedCluster:
		c.errorf("natsReplicas", "natsReplicas=%d is more than the %d servers of natsEmbeddedCluster: set natsReplicas=0 (automatic) or at most %d", s.NATSReplicas, EmbeddedClusterSize, EmbeddedClusterSize)
	case s.NATSReplicas == 1 && s.NATSEmbeddedCluster:
		c.warnf("natsReplicas", "natsReplicas=1 keeps one copy of the state on the embedded cluster: losing that host loses the migration's state (set natsReplicas=0 for 3 replicas)")
	}
}
