// Oracle answers questions about java.util.regex for javaregex's
// differential tests (oracle_test.go). Run with: java Oracle.java
//
// Protocol, one request per line on stdin, fields tab-separated and
// hex-encoded as UTF-8:
//   P <pattern>           -> "OK <groupCount>" | "ERR <message>"
//   M <input>             -> "0" | "1 <group0> <group1> ..." (group "-" when null)
//   E <input> <template>  -> "NOMATCH" | "OK <expansion>" | "EXC <class> <message>"
// M and E use the last pattern compiled with P.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.regex.*;

public class Oracle {
    static final HexFormat HEX = HexFormat.of();

    static String dec(String h) {
        return new String(HEX.parseHex(h), StandardCharsets.UTF_8);
    }

    static String enc(String s) {
        return HEX.formatHex(s.getBytes(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, StandardCharsets.UTF_8);
        Pattern p = null;
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            try {
                switch (f[0]) {
                    case "P" -> {
                        p = null;
                        try {
                            p = Pattern.compile(dec(f[1]));
                            out.println("OK\t" + p.matcher("").groupCount());
                        } catch (PatternSyntaxException e) {
                            out.println("ERR\t" + enc(e.getDescription()));
                        }
                    }
                    case "M" -> {
                        Matcher m = p.matcher(dec(f[1]));
                        if (!m.matches()) {
                            out.println("0");
                        } else {
                            StringBuilder sb = new StringBuilder("1");
                            for (int i = 0; i <= m.groupCount(); i++) {
                                String g = m.group(i);
                                sb.append('\t').append(g == null ? "-" : enc(g));
                            }
                            out.println(sb);
                        }
                    }
                    case "E" -> {
                        Matcher m = p.matcher(dec(f[1]));
                        if (!m.matches()) {
                            out.println("NOMATCH");
                        } else {
                            try {
                                StringBuilder sb = new StringBuilder();
                                m.appendReplacement(sb, dec(f[2]));
                                out.println("OK\t" + enc(sb.toString()));
                            } catch (RuntimeException e) {
                                out.println("EXC\t" + e.getClass().getSimpleName() + "\t" + enc(String.valueOf(e.getMessage())));
                            }
                        }
                    }
                    default -> out.println("BAD");
                }
            } catch (Throwable t) {
                out.println("THROW\t" + t.getClass().getSimpleName());
            }
            out.flush();
        }
    }
}
