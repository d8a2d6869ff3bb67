import paho.mqtt.client as mqtt
import pytest

from controller.broker.process import MosquittoProcess


@pytest.mark.integration
def test_broker_accepts_connections_and_survives_restart(mosquitto: MosquittoProcess) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    assert client.connect(mosquitto.host, mosquitto.port) == mqtt.MQTT_ERR_SUCCESS
    client.disconnect()
    mosquitto.stop()
    assert not mosquitto.running
    mosquitto.start()
    assert mosquitto.running
