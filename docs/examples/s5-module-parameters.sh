# Guide §5: reload the KMD with new module parameters from a one-time options file.
# @config t20-asic
sudo ./enflame-xxx.run
sudo ./enflame_peer_mem-xxx.run
sudo rmmod enflame_peermem
sudo rmmod enflame
cp -f /etc/modprobe.d/gcu.conf ./gcu_test.conf
echo 'options enflame "enable_ssm_rt_fw=0"' >> gcu_test.conf
echo 'options enflame "enable_sip_timeout_interval_ms=0"' >> gcu_test.conf
echo 'options enflame "enable_ssm_rt_fw=0,reset_enable=0"' >> gcu_test.conf
sudo modprobe enflame -C ./gcu_test.conf
# @expect accepted
cat /sys/module/enflame/parameters/enable_sip_timeout_interval_ms
cat /sys/module/enflame/parameters/reset_enable
