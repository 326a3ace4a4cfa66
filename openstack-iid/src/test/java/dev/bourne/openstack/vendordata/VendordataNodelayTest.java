package dev.bourne.openstack.vendordata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The signing service turns Nagle's algorithm off in the JDK's HttpServer (otherwise each response on a kept-alive
 * connection waits for the client's delayed ACK, about 40 ms on Linux: bench/run --suite iid --server-nagle shows it),
 * unless the operator set the property explicitly.
 */
class VendordataNodelayTest {

    @Test
    void loadingTheServer_setsTcpNodelayForTheJdkHttpServer() throws Exception {
        Class.forName(VendordataServer.class.getName(), true, VendordataServer.class.getClassLoader());
        String value = System.getProperty(VendordataServer.NODELAY_PROPERTY);
        // Another test in this JVM may only have loaded the class first: the property is then already set by it.
        assertEquals("true", value, "sun.net.httpserver.nodelay after the vendordata server's class initialisation");
    }
}
