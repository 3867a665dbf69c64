import { createApp } from 'vue';
import App from './App.vue';
import { startApp } from './state';
import './styles/theme.css';

createApp(App).mount('#app');
void startApp();
