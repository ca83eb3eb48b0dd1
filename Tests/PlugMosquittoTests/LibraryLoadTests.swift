import CMosquitto
import Testing
@testable import PlugMosquitto

/// libmosquitto is opened with dlopen only when [mqtt] is set: what an admin sees when that
/// fails, and that the library plugd is built against loads. One test, in this order: a
/// successful load lasts for the whole process, so the failures are tried before it.
@Suite struct LibraryLoadTests {
    @Test func failuresNameTheLibraryAndWhatIsMissingThenTheInstalledOneLoads() throws {
        #expect {
            try MQTTClient.loadLibrary("libplugd-absent.so.9")
        } throws: { error in
            "\(error)".contains("libplugd-absent.so.9: cannot open shared object file")
        }
        #expect {
            try MQTTClient.loadLibrary("libm.so.6")
        } throws: { error in
            "\(error)" == "libm.so.6 has no mosquitto_lib_init (plugd needs libmosquitto 2.0 or later)"
        }
        try MQTTClient.loadLibrary()
        #expect(MQTTClient.reasonText(0x87) == "Not authorized")
        #expect(MQTTClient.clause(String(cString: mosquitto_strerror(MOSQ_ERR_NOMEM.rawValue))) == "Out of memory")
        try MQTTClient.loadLibrary("libplugd-absent.so.9") // loaded already: nothing to do
    }
}
