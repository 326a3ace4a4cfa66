package dev.bourne.agent.workloadapi;

import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * A workload process for tests that need another uid: started under {@code setpriv}, it calls FetchX509SVID
 * {@code count} times over the socket and prints one line per call, {@code ID <ids>} or {@code STATUS <code>}, then
 * {@code DONE}.
 */
public final class WorkloadProbe {

    private WorkloadProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        StringBuilder out = new StringBuilder();
        try (RawWorkloadClient client = RawWorkloadClient.withHeader(socket)) {
            for (int i = 0; i < count; i++) {
                try {
                    X509SVIDResponse response = client.blocking()
                            .fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
                    out.append("ID ").append(response.getSvidsList().stream().map(s -> s.getSpiffeId())
                            .collect(Collectors.joining(","))).append('\n');
                } catch (StatusRuntimeException e) {
                    out.append("STATUS ").append(e.getStatus().getCode()).append('\n');
                }
            }
        }
        out.append("DONE\n");
        System.out.print(out);
        System.out.flush();
    }
}
