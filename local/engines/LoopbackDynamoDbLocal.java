import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local listening on 127.0.0.1 only and refusing browser and foreign-Host requests.
 * Run in source-file mode with DynamoDBLocal.jar on the class path and DynamoDB Local's own
 * arguments: {@code java -cp DynamoDBLocal.jar LoopbackDynamoDbLocal.java -port N -sharedDb ...}.
 *
 * <p>Why a launcher: DynamoDB Local has no host option (its options are -port, -dbPath, -inMemory,
 * -sharedDb, -cors, -delayTransientStatuses, -optimizeDbBeforeStartup, -disableTelemetry) and no
 * system property for one; {@code DynamoDBProxyServer} builds {@code new org.eclipse.jetty.server.Server(port)},
 * whose connector binds every interface. So this launcher builds the server exactly as DynamoDB
 * Local's own main does ({@code ServerRunner.createServerFromCommandLineArgs}, same options), and
 * before it starts
 * <ul>
 *   <li>sets the host of its Jetty connector to 127.0.0.1 (the server is the private field
 *       {@code server}; a missing field or a connector of another kind stops the start, so DynamoDB
 *       Local never runs unrestricted), and
 *   <li>wraps its handler with {@link Guard}, the rule of loopbackFront.js: a request with an
 *       {@code Origin} or {@code Sec-Fetch-*} header (a browser) or whose {@code Host} is not
 *       {@code 127.0.0.1}, {@code localhost} or {@code [::1]} with this port (DNS rebinding) gets 403
 *       before DynamoDB Local sees it. Inside the engine, so there is no unchecked way in.
 * </ul>
 * After the start it checks that every connector is bound to 127.0.0.1, and exits otherwise.
 */
public final class LoopbackDynamoDbLocal {
  private static final String LOOPBACK_HOST = "127.0.0.1";
  private static final List<String> LOOPBACK_HOSTNAMES = List.of("127.0.0.1", "localhost", "[::1]");

  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected DynamoDB Local connector " + connector);
      }
      ((ServerConnector) connector).setHost(LOOPBACK_HOST);
    }
    server.setHandler(new Guard(server.getHandler()));
    // Prints "Could not start server on port N: Address already in use" itself when the port is taken.
    proxy.start();
    for (Connector connector : server.getConnectors()) {
      if (connector.isStarted() && !LOOPBACK_HOST.equals(((ServerConnector) connector).getHost())) {
        System.err.println("DynamoDB Local is not bound to " + LOOPBACK_HOST + ": stopping");
        System.exit(1);
      }
    }
  }

  /** Refuses browser requests and Hosts other than loopback names with this port (HTTP 403). */
  static final class Guard extends Handler.Wrapper {
    Guard(Handler handler) {
      super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String reason = refusalOf(request);
      if (reason == null) return super.handle(request, response, callback);
      byte[] body =
          ("{\"__type\":\"AccessDeniedException\",\"message\":\"shardflow local engine: "
                  + reason.replace("\\", "\\\\").replace("\"", "\\\"")
                  + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      response.setStatus(403);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-amz-json-1.0");
      response.getHeaders().put("x-amzn-ErrorType", "AccessDeniedException");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
      response.write(true, ByteBuffer.wrap(body), callback);
      return true;
    }

    private static String refusalOf(Request request) {
      for (HttpField field : request.getHeaders()) {
        String name = field.getName().toLowerCase(Locale.ROOT);
        if (name.equals("origin")) {
          return "a browser request (Origin: " + field.getValue() + ") is refused";
        }
        if (name.startsWith("sec-fetch-")) {
          return "a browser request (" + name + ": " + field.getValue() + ") is refused";
        }
      }
      List<String> hosts = request.getHeaders().getValuesList(HttpHeader.HOST);
      if (hosts.isEmpty()) return "a request without Host is refused";
      int port = Request.getLocalPort(request);
      for (String host : hosts) {
        String lower = host.toLowerCase(Locale.ROOT);
        if (LOOPBACK_HOSTNAMES.stream().noneMatch((name) -> lower.equals(name + ":" + port))) {
          return "Host " + host + " is refused: only 127.0.0.1:" + port + ", localhost:" + port
              + ", [::1]:" + port + " are served";
        }
      }
      return null;
    }
  }
}
