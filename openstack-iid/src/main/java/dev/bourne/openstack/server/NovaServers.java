package dev.bourne.openstack.server;

import java.util.Optional;

/**
 * Nova's view of instances, for the optional Nova check: the calls we make, nothing more (a seam in front of Keystone
 * and Nova; production is {@code KeystoneNovaServers}, tests use the fake Nova of test-fixtures).
 */
public interface NovaServers {

    /**
     * Nova's record of the instance {@code instanceId} ({@code GET /servers/{id}}), or empty when Nova answers that no
     * such instance exists (404).
     *
     * @throws NovaUnavailableException when Keystone or Nova cannot answer (unreachable, timeout, 5xx, refused
     *     credentials, a malformed answer): the attestor then fails closed
     */
    Optional<NovaServer> find(String instanceId) throws NovaUnavailableException;

    /**
     * One instance as Nova describes it.
     *
     * @param id the instance UUID
     * @param status Nova's {@code status}, such as {@code ACTIVE}, {@code BUILD}, {@code SHUTOFF}
     * @param projectId the owning project ({@code tenant_id} in Nova's answer)
     */
    record NovaServer(String id, String status, String projectId) {
        public NovaServer {
            java.util.Objects.requireNonNull(id, "id");
            java.util.Objects.requireNonNull(status, "status");
            java.util.Objects.requireNonNull(projectId, "projectId");
        }
    }
}
